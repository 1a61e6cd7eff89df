package authz

// Classify maps the role service's errors to the API errors the module's own handlers answer
// with, for other domains' console forms that call the service (a user's page granting a role):
// one mapping, one set of messages.
func Classify(err error) error { return classify(err) }
