// Package cardguardtest holds the end-to-end proof of Parley's first promise — no cardholder data
// at rest: its test builds the whole application over SQLite and PostgreSQL, types card numbers
// in every format into every input a person or a browser can reach over the HTTP API, the HTML
// forms and the chat sockets, and then reads back everything that was stored (every column of
// every table, the SQLite database and WAL files byte for byte, the logs) and runs the PAN
// discovery scan over the database. The package has no code of its own.
package cardguardtest
