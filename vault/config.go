package vault

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"
)

// Environment variables TransitConfigFromEnv reads. The VAULT_* names are Vault's own.
const (
	EnvVaultAddr          = "VAULT_ADDR"
	EnvVaultToken         = "VAULT_TOKEN"
	EnvVaultNamespace     = "VAULT_NAMESPACE"
	EnvVaultCACert        = "VAULT_CACERT"
	EnvVaultCAPath        = "VAULT_CAPATH"
	EnvVaultClientCert    = "VAULT_CLIENT_CERT"
	EnvVaultClientKey     = "VAULT_CLIENT_KEY"
	EnvVaultTLSServerName = "VAULT_TLS_SERVER_NAME"
	EnvVaultSkipVerify    = "VAULT_SKIP_VERIFY"
	EnvVaultRoleID        = "VAULT_ROLE_ID"
	EnvVaultSecretID      = "VAULT_SECRET_ID"
	// EnvVaultSecretIDFile names a file holding the AppRole secret id (preferred over the
	// variable, which other processes of the same user can read).
	EnvVaultSecretIDFile = "VAULT_SECRET_ID_FILE"
	EnvTransitMount      = "PARLEY_VAULT_TRANSIT_MOUNT"
	EnvAppRoleMount      = "PARLEY_VAULT_APPROLE_MOUNT"
	EnvKeyPrefix         = "PARLEY_VAULT_KEY_PREFIX"
)

// TransitConfigFromEnv builds the transit provider's configuration from the environment. ok is
// false when VAULT_ADDR is unset: Parley then runs on the local development provider. An address
// without credentials, or VAULT_SKIP_VERIFY=true, is an error.
func TransitConfigFromEnv(getenv func(string) string) (cfg TransitConfig, ok bool, err error) {
	addr := strings.TrimSpace(getenv(EnvVaultAddr))
	if addr == "" {
		return TransitConfig{}, false, nil
	}
	if skip, _ := strconv.ParseBool(getenv(EnvVaultSkipVerify)); skip {
		return TransitConfig{}, true, errors.New(EnvVaultSkipVerify + " is set: Parley refuses to talk to Vault without verifying its certificate")
	}
	cfg = TransitConfig{
		Address:   addr,
		Token:     getenv(EnvVaultToken),
		Namespace: getenv(EnvVaultNamespace),
		Mount:     getenv(EnvTransitMount),
		KeyPrefix: getenv(EnvKeyPrefix),
	}
	if roleID := getenv(EnvVaultRoleID); roleID != "" {
		secretID := getenv(EnvVaultSecretID)
		if f := getenv(EnvVaultSecretIDFile); f != "" {
			b, err := os.ReadFile(f) // #nosec G304 -- the operator names the secret id file
			if err != nil {
				return TransitConfig{}, true, fmt.Errorf("read %s: %w", EnvVaultSecretIDFile, err)
			}
			secretID = strings.TrimSpace(string(b))
		}
		if secretID == "" {
			return TransitConfig{}, true, errors.New(EnvVaultRoleID + " is set without " + EnvVaultSecretID + " or " + EnvVaultSecretIDFile)
		}
		cfg.AppRole = &AppRole{RoleID: roleID, SecretID: secretID, Mount: getenv(EnvAppRoleMount)}
		cfg.Token = ""
	}
	if cfg.Token == "" && cfg.AppRole == nil {
		return TransitConfig{}, true, errors.New(EnvVaultAddr + " is set without " + EnvVaultToken + " or AppRole credentials (" + EnvVaultRoleID + ", " + EnvVaultSecretID + ")")
	}
	tls := api.TLSConfig{
		CACert:        getenv(EnvVaultCACert),
		CAPath:        getenv(EnvVaultCAPath),
		ClientCert:    getenv(EnvVaultClientCert),
		ClientKey:     getenv(EnvVaultClientKey),
		TLSServerName: getenv(EnvVaultTLSServerName),
	}
	if tls.CACert != "" || tls.CAPath != "" || tls.ClientCert != "" || tls.ClientKey != "" || tls.TLSServerName != "" {
		cfg.TLS = &tls
	}
	return cfg, true, nil
}
