package evidence

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/parleyhq/parley/audit"
)

// FileError names the file of a bundle that failed verification.
type FileError struct {
	File   string
	Reason string
}

func (e *FileError) Error() string { return e.File + ": " + e.Reason }

// VerifyReport is what an intact bundle holds.
type VerifyReport struct {
	Manifest Manifest
	// KeysTrusted is true when the signing key is one of the trusted (published) keys; false
	// when none was given and the bundle's own key was used.
	KeysTrusted bool
	// Audit is the verification of the embedded audit export.
	Audit audit.BundleReport
}

// Verify checks a bundle offline: the manifest's signature (under a trusted key when given,
// else the key the manifest names), every file's size and SHA-256, that no file is missing or
// added, and the embedded audit export's own chain and signatures. A failure is a *FileError
// naming the file.
func Verify(r io.Reader, trusted ...audit.PublicKey) (VerifyReport, error) {
	files := map[string][]byte{}
	var order []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return VerifyReport{}, &FileError{File: "bundle", Reason: "not a readable tar file: " + err.Error()}
		}
		if h.Typeflag != tar.TypeReg || h.Size > maxFile {
			return VerifyReport{}, &FileError{File: h.Name, Reason: "not a regular file of a permitted size"}
		}
		if _, dup := files[h.Name]; dup {
			return VerifyReport{}, &FileError{File: h.Name, Reason: "appears twice"}
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxFile))
		if err != nil {
			return VerifyReport{}, &FileError{File: h.Name, Reason: "unreadable: " + err.Error()}
		}
		files[h.Name] = b
		order = append(order, h.Name)
	}
	mb, ok := files[FileManifest]
	if !ok {
		return VerifyReport{}, &FileError{File: FileManifest, Reason: "missing"}
	}
	sig, ok := files[FileManifestSig]
	if !ok {
		return VerifyReport{}, &FileError{File: FileManifestSig, Reason: "missing"}
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil || m.Format != BundleFormat {
		return VerifyReport{}, &FileError{File: FileManifest, Reason: "not an evidence bundle manifest"}
	}
	own, err := audit.ParsePublicKeyPEM([]byte(m.PublicKey))
	if err != nil || own.ID != m.KeyID {
		return VerifyReport{}, &FileError{File: FileManifest, Reason: "the signing key it names is unreadable or does not match its key id"}
	}
	rep := VerifyReport{Manifest: m}
	key := own.Key
	if len(trusted) > 0 {
		i := slices.IndexFunc(trusted, func(k audit.PublicKey) bool { return bytes.Equal(k.Key, own.Key) })
		if i < 0 {
			return VerifyReport{}, &FileError{File: FileManifest, Reason: "signed by key " + m.KeyID + ", which is not the trusted key"}
		}
		rep.KeysTrusted = true
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(key, append([]byte(signContext), mb...), sig) {
		return VerifyReport{}, &FileError{File: FileManifest, Reason: "the signature (manifest.sig) does not verify: the manifest or its signature was changed"}
	}
	listed := map[string]bool{FileManifest: true, FileManifestSig: true}
	for _, f := range m.Files {
		listed[f.Name] = true
		b, ok := files[f.Name]
		if !ok {
			return VerifyReport{}, &FileError{File: f.Name, Reason: "listed in the manifest but missing"}
		}
		s := sha256.Sum256(b)
		if int64(len(b)) != f.Size || hex.EncodeToString(s[:]) != f.SHA256 {
			return VerifyReport{}, &FileError{File: f.Name, Reason: "its SHA-256 does not match the manifest: the file was changed"}
		}
	}
	for _, n := range order {
		if !listed[n] {
			return VerifyReport{}, &FileError{File: n, Reason: "not listed in the manifest"}
		}
	}
	if exp, ok := files[FileAuditExport]; ok {
		keys := trusted
		if len(keys) == 0 {
			keys = []audit.PublicKey{own}
		}
		ar, err := audit.VerifyBundle(bytes.NewReader(exp), keys...)
		if err != nil || ar.Damage != nil {
			what := "damaged"
			if ar.Damage != nil {
				what = ar.Damage.String()
			} else if err != nil {
				what = err.Error()
			}
			return VerifyReport{}, &FileError{File: FileAuditExport, Reason: fmt.Sprintf("the audit export does not verify: %s", what)}
		}
		rep.Audit = ar
	}
	return rep, nil
}
