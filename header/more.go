package header

// registerMore registers the parsers of the header types defined beyond
// the core set (contact, media types, authentication, events, session
// timers and the rest).
func registerMore() {
	// media.go
	register[Accept](IDAccept)
	register[AcceptEncoding](IDAcceptEncoding)
	register[AcceptLanguage](IDAcceptLanguage)
	register[ContentDisposition](IDContentDisposition)
	register[ContentLanguage](IDContentLanguage)
	register[ContentType](IDContentType)
	// auth.go
	register[Authorization](IDAuthorization)
	register[ProxyAuthorization](IDProxyAuthorization)
	register[WWWAuthenticate](IDWWWAuthenticate)
	register[ProxyAuthenticate](IDProxyAuthenticate)
	register[AuthenticationInfo](IDAuthenticationInfo)
	// event.go
	register[Event](IDEvent)
	register[SubscriptionState](IDSubscriptionState)
	register[Replaces](IDReplaces)
	register[TargetDialog](IDTargetDialog)
	// session.go
	register[SessionExpires](IDSessionExpires)
	register[MinSE](IDMinSE)
	register[RAck](IDRAck)
	register[Reason](IDReason)
	// misc.go
	register[RetryAfter](IDRetryAfter)
	register[Timestamp](IDTimestamp)
	register[Date](IDDate)
	register[Warning](IDWarning)
	register[CallInfo](IDCallInfo)
	register[AlertInfo](IDAlertInfo)
	register[ErrorInfo](IDErrorInfo)
	register[IdentityInfo](IDIdentityInfo)
	register[Priority](IDPriority)
	register[Organization](IDOrganization)
	register[MIMEVersion](IDMIMEVersion)
	register[InReplyTo](IDInReplyTo)
	register[Privacy](IDPrivacy)
	register[SIPETag](IDSIPETag)
	register[SIPIfMatch](IDSIPIfMatch)
	register[AcceptContact](IDAcceptContact)
	register[RejectContact](IDRejectContact)
	register[RequestDisposition](IDRequestDisposition)
}
