package authz_test

import "net/http"

// The agent workspace's JSON (app/chat/chathttp): the visitor panel of a conversation, checked in
// the conversation's department, and the supervisor view's live chats, checked in the department
// ?department= names (without it, where the user holds chat.monitor).
func init() {
	for k, v := range map[string]fixture{
		"GET /api/v1/chat/conversations/:conversation/visitor": {build: onConversation("/api/v1/chat/conversations/%s/visitor", ""), status: http.StatusOK},
		"GET /api/v1/chat/live":                                {build: onDepartment("/api/v1/chat/live?department=%s"), status: http.StatusOK},
	} {
		routeFixtures[k] = v
	}
}
