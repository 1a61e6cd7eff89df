package visitor

import "strings"

// Client is what Parley records of a visitor's browser: coarse names, never the raw User-Agent.
type Client struct {
	Browser string
	OS      string
	Device  string
}

// ParseUserAgent derives the browser, operating system and device class from a User-Agent header.
// It knows the common engines only; everything else is "Other".
func ParseUserAgent(ua string) Client {
	l := strings.ToLower(ua)
	c := Client{Browser: "Other", OS: "Other", Device: "desktop"}
	switch {
	case strings.Contains(l, "edg/"):
		c.Browser = "Edge"
	case strings.Contains(l, "opr/"), strings.Contains(l, "opera"):
		c.Browser = "Opera"
	case strings.Contains(l, "samsungbrowser/"):
		c.Browser = "Samsung Internet"
	case strings.Contains(l, "firefox/"), strings.Contains(l, "fxios/"):
		c.Browser = "Firefox"
	case strings.Contains(l, "chrome/"), strings.Contains(l, "chromium/"), strings.Contains(l, "crios/"):
		c.Browser = "Chrome"
	case strings.Contains(l, "safari/"):
		c.Browser = "Safari"
	case strings.Contains(l, "bot"), strings.Contains(l, "crawler"), strings.Contains(l, "spider"):
		c.Browser, c.Device = "Bot", "bot"
	}
	switch {
	case strings.Contains(l, "android"):
		c.OS = "Android"
	case strings.Contains(l, "iphone"), strings.Contains(l, "ipad"), strings.Contains(l, "ipod"):
		c.OS = "iOS"
	case strings.Contains(l, "windows"):
		c.OS = "Windows"
	case strings.Contains(l, "mac os x"), strings.Contains(l, "macintosh"):
		c.OS = "macOS"
	case strings.Contains(l, "cros"):
		c.OS = "ChromeOS"
	case strings.Contains(l, "linux"):
		c.OS = "Linux"
	}
	switch {
	case c.Device == "bot":
	case strings.Contains(l, "ipad"), strings.Contains(l, "tablet"),
		strings.Contains(l, "android") && !strings.Contains(l, "mobile"):
		c.Device = "tablet"
	case strings.Contains(l, "mobi"), strings.Contains(l, "iphone"):
		c.Device = "mobile"
	}
	return c
}
