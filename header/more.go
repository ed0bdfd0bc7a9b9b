package header

// registerMore registers the parsers of the header types defined beyond
// the core set (contact, media types, authentication, events, session
// timers and the rest).
func registerMore() {}
