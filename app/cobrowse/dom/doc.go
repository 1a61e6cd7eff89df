// Package dom sanitises what a visitor's page shares in a co-browsing session: a snapshot of the
// page as a compact JSON tree, then mutations, scroll, viewport and pointer frames. The server
// never forwards the visitor's bytes: it decodes each frame strictly, keeps only allowlisted tags
// and attributes, checks every URL (http(s) links; images, stylesheets and CSS url() only from
// the site's origins, or raster data: images), rewrites inline CSS, masks card numbers in every
// text and attribute value, masks input values outside the site's allowlist, enforces size and
// count limits, and encodes a fresh frame from the result. No script, event handler, frame,
// object, embed or javascript: URL survives (see Sanitizer).
package dom
