// Package identity names who acts in Parley without tying the name to a transport: Principal is
// the authenticated console user a request acts for. Package api carries it on HTTP requests
// (api.Principal is this type); domain engines such as the chat take it without depending on
// HTTP.
package identity

// Principal is the authenticated console user a request acts for. The session middleware sets it;
// the authorization guard and handlers read it. It carries ids only, never credentials.
type Principal struct {
	TenantID  string
	UserID    string
	SessionID string
	Email     string
	// MFA reports that this session passed a second factor.
	MFA bool
}
