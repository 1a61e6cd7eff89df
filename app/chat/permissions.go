package chat

// Permissions the chat engine checks itself, on socket frames and file downloads, beside those
// its routes declare. Every check of the engine names one of these constants.
const (
	permAccept            = "chat.accept"
	permRefuse            = "chat.refuse"
	permTransfer          = "chat.transfer"
	permEnd               = "chat.end"
	permMonitor           = "chat.monitor"
	permWhisper           = "chat.whisper"
	permJoin              = "chat.join"
	permFilesAll          = "transcript.view.all"
	permOfflineAll        = "offline.view.all"
	permOfflineDepartment = "offline.view.department"
	permAgentChat         = "chat.agent_chat"
	permInvite            = "chat.invite"
)

// Checks returns the permissions the chat engine checks outside the route table (socket frames:
// accept, refuse, transfer, end, monitor, whisper, join, team messages, invitations; any conversation's files; offline
// messages). The catalogue test in package app reads it, so a permission that only the engine
// checks still counts as guarding something.
func Checks() []string {
	return []string{permAccept, permRefuse, permTransfer, permEnd, permMonitor, permWhisper, permJoin,
		permFilesAll, permOfflineAll, permOfflineDepartment, permAgentChat, permInvite, permViewPII,
		permTranscriptAll}
}
