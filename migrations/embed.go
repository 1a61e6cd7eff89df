// Package migrations owns Parley's database schema: the versioned SQL for each dialect
// (postgres/ and sqlite/, embedded in the binary), the connection the schema lives in, and the
// check `parley serve` runs before it accepts traffic. Old migrations are never edited and never
// import today's Go structs; a change to the schema is a new numbered file in both folders.
package migrations

import "embed"

// FS holds the SQL migrations of every dialect, one folder per dialect.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
