package dom

// Node kinds.
const (
	// KindElement is an element: Tag, Attrs and Kids.
	KindElement = "e"
	// KindText is a text node: Text.
	KindText = "t"
	// KindPrivate is a placeholder the visitor's page put where a private element was (W×H
	// pixels, no content): data-parley-private, .parley-nosync, password and card fields.
	KindPrivate = "p"
)

// Node is one node of a snapshot or of an added subtree. ID is the recorder's id for the node,
// unique within the page's session (1 to MaxID).
type Node struct {
	ID    int64             `json:"id"`
	Kind  string            `json:"k"`
	Tag   string            `json:"tag,omitempty"`
	Attrs map[string]string `json:"a,omitempty"`
	Text  string            `json:"v,omitempty"`
	Kids  []*Node           `json:"c,omitempty"`
	W     int               `json:"w,omitempty"`
	H     int               `json:"h,omitempty"`
}

// Mutation operations.
const (
	OpAdd    = "add"    // Node is inserted under Parent, before Before (0: at the end)
	OpRemove = "remove" // ID is removed with its subtree
	OpAttr   = "attr"   // ID's attribute Name is set to Value (nil: removed); Tag is ID's tag
	OpText   = "text"   // text node ID's text becomes Value
	OpValue  = "value"  // form field ID's value becomes Value; Name is the field's name
)

// Mutation is one change to the shared page.
type Mutation struct {
	Op     string  `json:"op"`
	ID     int64   `json:"id,omitempty"`
	Parent int64   `json:"parent,omitempty"`
	Before int64   `json:"before,omitempty"`
	Node   *Node   `json:"node,omitempty"`
	Tag    string  `json:"tag,omitempty"`
	Name   string  `json:"name,omitempty"`
	Value  *string `json:"v,omitempty"`
}

// Frame types a visitor's page sends.
const (
	TypeSnapshot  = "snapshot"
	TypeMutations = "mutations"
	TypeScroll    = "scroll"
	TypeViewport  = "viewport"
	TypePointer   = "pointer"
)

// Frame is a frame of the visitor's page: a snapshot (URL, Title, W×H viewport, X/Y scroll,
// Root), mutations (M), a scroll of the page or of element ID (X, Y), a viewport size (W, H) or
// the pointer's position (X, Y).
type Frame struct {
	T     string     `json:"t"`
	URL   string     `json:"url,omitempty"`
	Title string     `json:"title,omitempty"`
	ID    int64      `json:"id,omitempty"`
	X     int        `json:"x,omitempty"`
	Y     int        `json:"y,omitempty"`
	W     int        `json:"w,omitempty"`
	H     int        `json:"h,omitempty"`
	Root  *Node      `json:"root,omitempty"`
	M     []Mutation `json:"m,omitempty"`
}
