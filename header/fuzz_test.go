package header

import (
	"errors"
	"testing"
)

// fuzzValue fuzzes the parser of T, seeded with the inputs of its table
// test and the values of its header in the RFC 4475 messages. Invariants:
// no panic; a failure is an *Error with an offset inside the input; a
// success renders to text without CR or LF that parses back to the same
// value and renders identically again.
func fuzzValue[T comparable, P Value[T]](f *testing.F, id ID, table []string) {
	for _, s := range table {
		f.Add(s)
	}
	for _, s := range valuesOf(readDatFields(f), id) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v T
		if err := P(&v).Parse(s); err != nil {
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("Parse(%q) error %T is not *Error: %v", s, err, err)
			}
			if he.Offset < 0 || he.Offset > len(s) {
				t.Fatalf("Parse(%q) error offset %d outside the input", s, he.Offset)
			}
			return
		}
		checkRoundTrip[T, P](t, v)
	})
}

func FuzzVia(f *testing.F) { fuzzValue[Via](f, IDVia, inputs(viaCases)) }

func FuzzFrom(f *testing.F) { fuzzValue[From](f, IDFrom, inputs(fromCases)) }

func FuzzTo(f *testing.F) { fuzzValue[To](f, IDTo, inputs(toCases)) }

func FuzzCallID(f *testing.F) { fuzzValue[CallID](f, IDCallID, inputs(callIDCases)) }

func FuzzCSeq(f *testing.F) { fuzzValue[CSeq](f, IDCSeq, inputs(cseqCases)) }

func FuzzMaxForwards(f *testing.F) {
	fuzzValue[MaxForwards](f, IDMaxForwards, inputs(maxForwardsCases))
}

func FuzzContentLength(f *testing.F) {
	fuzzValue[ContentLength](f, IDContentLength, inputs(contentLengthCases))
}

func FuzzExpires(f *testing.F) { fuzzValue[Expires](f, IDExpires, inputs(expiresCases)) }

func FuzzMinExpires(f *testing.F) { fuzzValue[MinExpires](f, IDMinExpires, inputs(minExpiresCases)) }

func FuzzRSeq(f *testing.F) { fuzzValue[RSeq](f, IDRSeq, inputs(rseqCases)) }

func FuzzMaxBreadth(f *testing.F) { fuzzValue[MaxBreadth](f, IDMaxBreadth, inputs(maxBreadthCases)) }

func FuzzFlowTimer(f *testing.F) { fuzzValue[FlowTimer](f, IDFlowTimer, inputs(flowTimerCases)) }

func FuzzContact(f *testing.F) { fuzzValue[Contact](f, IDContact, inputs(contactCases)) }

func FuzzRoute(f *testing.F) { fuzzValue[Route](f, IDRoute, inputs(routeCases)) }

func FuzzRecordRoute(f *testing.F) {
	fuzzValue[RecordRoute](f, IDRecordRoute, inputs(recordRouteCases))
}

func FuzzPath(f *testing.F) { fuzzValue[Path](f, IDPath, inputs(pathCases)) }

func FuzzServiceRoute(f *testing.F) {
	fuzzValue[ServiceRoute](f, IDServiceRoute, inputs(serviceRouteCases))
}

func FuzzPAssertedIdentity(f *testing.F) {
	fuzzValue[PAssertedIdentity](f, IDPAssertedIdentity, inputs(pAssertedIdentityCases))
}

func FuzzPPreferredIdentity(f *testing.F) {
	fuzzValue[PPreferredIdentity](f, IDPPreferredIdentity, inputs(pPreferredIdentityCases))
}

func FuzzReferTo(f *testing.F) { fuzzValue[ReferTo](f, IDReferTo, inputs(referToCases)) }

func FuzzReferredBy(f *testing.F) { fuzzValue[ReferredBy](f, IDReferredBy, inputs(referredByCases)) }

func FuzzReplyTo(f *testing.F) { fuzzValue[ReplyTo](f, IDReplyTo, inputs(replyToCases)) }

func FuzzAllow(f *testing.F) { fuzzValue[Allow](f, IDAllow, inputs(allowCases)) }

func FuzzSupported(f *testing.F) { fuzzValue[Supported](f, IDSupported, inputs(supportedCases)) }

func FuzzRequire(f *testing.F) { fuzzValue[Require](f, IDRequire, inputs(requireCases)) }

func FuzzProxyRequire(f *testing.F) {
	fuzzValue[ProxyRequire](f, IDProxyRequire, inputs(proxyRequireCases))
}

func FuzzUnsupported(f *testing.F) {
	fuzzValue[Unsupported](f, IDUnsupported, inputs(unsupportedCases))
}

func FuzzAllowEvents(f *testing.F) {
	fuzzValue[AllowEvents](f, IDAllowEvents, inputs(allowEventsCases))
}

func FuzzContentEncoding(f *testing.F) {
	fuzzValue[ContentEncoding](f, IDContentEncoding, inputs(contentEncodingCases))
}

func FuzzUserAgent(f *testing.F) { fuzzValue[UserAgent](f, IDUserAgent, inputs(userAgentCases)) }

func FuzzServer(f *testing.F) { fuzzValue[Server](f, IDServer, inputs(serverCases)) }

func FuzzSubject(f *testing.F) { fuzzValue[Subject](f, IDSubject, inputs(subjectCases)) }

func FuzzAccept(f *testing.F) { fuzzValue[Accept](f, IDAccept, inputs(acceptCases)) }

func FuzzAcceptEncoding(f *testing.F) {
	fuzzValue[AcceptEncoding](f, IDAcceptEncoding, inputs(acceptEncodingCases))
}

func FuzzAcceptLanguage(f *testing.F) {
	fuzzValue[AcceptLanguage](f, IDAcceptLanguage, inputs(acceptLanguageCases))
}

func FuzzContentDisposition(f *testing.F) {
	fuzzValue[ContentDisposition](f, IDContentDisposition, inputs(contentDispositionCases))
}

func FuzzContentLanguage(f *testing.F) {
	fuzzValue[ContentLanguage](f, IDContentLanguage, inputs(contentLanguageCases))
}

func FuzzContentType(f *testing.F) {
	fuzzValue[ContentType](f, IDContentType, inputs(contentTypeCases))
}

func FuzzAuthorization(f *testing.F) {
	fuzzValue[Authorization](f, IDAuthorization, inputs(authorizationCases))
}

func FuzzProxyAuthorization(f *testing.F) {
	fuzzValue[ProxyAuthorization](f, IDProxyAuthorization, inputs(proxyAuthorizationCases))
}

func FuzzWWWAuthenticate(f *testing.F) {
	fuzzValue[WWWAuthenticate](f, IDWWWAuthenticate, inputs(wwwAuthenticateCases))
}

func FuzzProxyAuthenticate(f *testing.F) {
	fuzzValue[ProxyAuthenticate](f, IDProxyAuthenticate, inputs(proxyAuthenticateCases))
}

func FuzzAuthenticationInfo(f *testing.F) {
	fuzzValue[AuthenticationInfo](f, IDAuthenticationInfo, inputs(authenticationInfoCases))
}

func FuzzEvent(f *testing.F) { fuzzValue[Event](f, IDEvent, inputs(eventCases)) }

func FuzzSubscriptionState(f *testing.F) {
	fuzzValue[SubscriptionState](f, IDSubscriptionState, inputs(subscriptionStateCases))
}

func FuzzReplaces(f *testing.F) { fuzzValue[Replaces](f, IDReplaces, inputs(replacesCases)) }

func FuzzTargetDialog(f *testing.F) {
	fuzzValue[TargetDialog](f, IDTargetDialog, inputs(targetDialogCases))
}

func FuzzSessionExpires(f *testing.F) {
	fuzzValue[SessionExpires](f, IDSessionExpires, inputs(sessionExpiresCases))
}

func FuzzMinSE(f *testing.F) { fuzzValue[MinSE](f, IDMinSE, inputs(minSECases)) }

func FuzzRAck(f *testing.F) { fuzzValue[RAck](f, IDRAck, inputs(rackCases)) }

func FuzzReason(f *testing.F) { fuzzValue[Reason](f, IDReason, inputs(reasonCases)) }

func FuzzRetryAfter(f *testing.F) { fuzzValue[RetryAfter](f, IDRetryAfter, inputs(retryAfterCases)) }

func FuzzTimestamp(f *testing.F) { fuzzValue[Timestamp](f, IDTimestamp, inputs(timestampCases)) }

func FuzzDate(f *testing.F) { fuzzValue[Date](f, IDDate, inputs(dateCases)) }

func FuzzWarning(f *testing.F) { fuzzValue[Warning](f, IDWarning, inputs(warningCases)) }

func FuzzCallInfo(f *testing.F) { fuzzValue[CallInfo](f, IDCallInfo, inputs(callInfoCases)) }

func FuzzAlertInfo(f *testing.F) { fuzzValue[AlertInfo](f, IDAlertInfo, inputs(alertInfoCases)) }

func FuzzErrorInfo(f *testing.F) { fuzzValue[ErrorInfo](f, IDErrorInfo, inputs(errorInfoCases)) }

func FuzzIdentityInfo(f *testing.F) {
	fuzzValue[IdentityInfo](f, IDIdentityInfo, inputs(identityInfoCases))
}

func FuzzPriority(f *testing.F) { fuzzValue[Priority](f, IDPriority, inputs(priorityCases)) }

func FuzzOrganization(f *testing.F) {
	fuzzValue[Organization](f, IDOrganization, inputs(organizationCases))
}

func FuzzMIMEVersion(f *testing.F) {
	fuzzValue[MIMEVersion](f, IDMIMEVersion, inputs(mimeVersionCases))
}

func FuzzInReplyTo(f *testing.F) { fuzzValue[InReplyTo](f, IDInReplyTo, inputs(inReplyToCases)) }

func FuzzPrivacy(f *testing.F) { fuzzValue[Privacy](f, IDPrivacy, inputs(privacyCases)) }

func FuzzSIPETag(f *testing.F) { fuzzValue[SIPETag](f, IDSIPETag, inputs(sipETagCases)) }

func FuzzSIPIfMatch(f *testing.F) { fuzzValue[SIPIfMatch](f, IDSIPIfMatch, inputs(sipIfMatchCases)) }

func FuzzAcceptContact(f *testing.F) {
	fuzzValue[AcceptContact](f, IDAcceptContact, inputs(acceptContactCases))
}

func FuzzRejectContact(f *testing.F) {
	fuzzValue[RejectContact](f, IDRejectContact, inputs(rejectContactCases))
}

func FuzzRequestDisposition(f *testing.F) {
	fuzzValue[RequestDisposition](f, IDRequestDisposition, inputs(requestDispositionCases))
}
