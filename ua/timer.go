package ua

import (
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// Session timers (RFC 4028): the session is refreshed by a re-INVITE or
// UPDATE before its interval runs out, by the side the 2xx names the
// refresher; a session nobody refreshed is ended with a BYE.

// askSessionTimer adds Session-Expires to a refresh or re-INVITE we send
// (RFC 4028 §7.4): the current interval, this side as refresher when it is.
func (u *UA) askSessionTimer(s *session, req *message.Message) {
	if s.interval <= 0 {
		return
	}
	refresher := "uas"
	if s.refresher {
		refresher = "uac"
	}
	message.Set(req, header.SessionExpires{Delta: uint32(s.interval / time.Second), Params: header.Params(";refresher=" + refresher)})
	message.Set(req, header.Supported("timer"))
}

// grantSessionTimer decides the session interval and refresher for a
// request we answer with the 2xx resp (RFC 4028 §9): the interval asked
// for, or ours when the caller knows no session timers; the refresher the
// request named, else the caller if it supports timers, else us.
func (u *UA) grantSessionTimer(s *session, req, resp *message.Message) {
	se, ok, err := message.First[header.SessionExpires](req)
	var interval time.Duration
	refresher := ""
	switch {
	case err == nil && ok:
		interval = time.Duration(se.Delta) * time.Second
		refresher = se.Refresher()
	case u.cfg.SessionExpires > 0 && req == s.c.invite:
		interval = u.cfg.SessionExpires
	case s.interval > 0:
		interval = s.interval
	default:
		s.interval = 0
		return
	}
	timer := supports(req, "timer")
	if refresher == "" {
		refresher = "uas"
		if timer {
			refresher = "uac"
		}
	}
	message.Set(resp, header.SessionExpires{Delta: uint32(interval / time.Second), Params: header.Params(";refresher=" + refresher)})
	if timer {
		resp.Add("Require", "timer")
	}
	s.interval, s.refresher = interval, refresher == "uas"
}

// startSessionTimerUAS arms the timers after we answered with resp.
func (u *UA) startSessionTimerUAS(s *session, resp *message.Message, out []effects.Effect) []effects.Effect {
	return u.armSessionTimer(s, out)
}

// startSessionTimerUAC takes the interval and refresher from a 2xx to our
// INVITE, re-INVITE or UPDATE (RFC 4028 §7.2), and arms the timers.
func (u *UA) startSessionTimerUAC(s *session, resp *message.Message, out []effects.Effect) []effects.Effect {
	se, ok, err := message.First[header.SessionExpires](resp)
	if err != nil || !ok {
		s.interval = 0
		return u.armSessionTimer(s, out)
	}
	s.interval = time.Duration(se.Delta) * time.Second
	s.refresher = se.Refresher() != "uas"
	return u.armSessionTimer(s, out)
}

// armSessionTimer (re)starts the refresh and expiry timers (RFC 4028 §10):
// the refresher refreshes at half the interval; the side that is not the
// refresher ends a session nobody refreshed "slightly before the session
// expiration", the smaller of 32 s and a third of the interval before it.
// The refresher's refresh is in progress until then, and ends the session
// itself if it times out or gets a 408 or 481 (failure, dialogGone); its
// expiry timer is only a backstop, at the session expiration: ending the
// session sooner would tear down one the peer has just refreshed, its 2xx
// still on the way.
func (u *UA) armSessionTimer(s *session, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&s.tRefresh, out)
	out = u.cancelTimer(&s.tExpiry, out)
	if s.interval <= 0 {
		return out
	}
	expiry := s.interval - min(32*time.Second, s.interval/3)
	if s.refresher {
		s.tRefresh, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerRefresh}, s.interval/2, out)
		expiry = s.interval
	}
	s.tExpiry, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerExpiry}, expiry, out)
	return out
}

// refresh sends a session refresh: an UPDATE without a body when the peer
// allows it and Config.RefreshWithUpdate, else a re-INVITE repeating our
// description.
func (u *UA) refresh(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	useUpdate := u.cfg.RefreshWithUpdate && s.peerAllowsUpdate
	if s.clientUpdate != 0 || s.oa == oaLocalOffer || s.oa == oaRemoteOffer || s.inviteInProgress() && !useUpdate {
		// Something is already in progress; try again shortly.
		s.tRefresh, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerRefresh}, u.txns.Config().T2, out)
		return out
	}
	if useUpdate {
		out, _ = u.sendModify(now, s, nil, true, out)
		return out
	}
	out, _ = u.sendModify(now, s, s.local, false, out)
	return out
}

// sessionExpired ends a session nobody refreshed (RFC 4028 §10).
func (u *UA) sessionExpired(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	out = deliver(out, effects.Event{Kind: effects.CallEnded, ID: s.c.id, Err: ErrSessionExpired})
	return u.sendBye(now, s, out)
}

// retryMinSE sends the INVITE again after a 422, with the Min-SE it asked
// for as the session interval (RFC 4028 §7.4).
func (u *UA) retryMinSE(now effects.Time, c *call, resp *message.Message, out []effects.Effect) ([]effects.Effect, bool) {
	mse, ok, err := message.First[header.MinSE](resp)
	if err != nil || !ok {
		return out, false
	}
	inv := c.invite.Clone()
	cseq := inv.CSeq()
	cseq.Seq++
	if message.Set(inv, cseq) != nil || message.Set(inv, header.SessionExpires{Delta: mse.Delta}) != nil ||
		message.Set(inv, header.MinSE{Delta: mse.Delta}) != nil || inv.ReplaceTopVia(u.via(c.peer)) != nil {
		return out, false
	}
	id, out, err := u.newClient(now, inv, c.peer, txnRole{call: c, kind: roleInvite}, out)
	if err != nil {
		return out, false
	}
	c.invite, c.inviteTxn = inv, id
	return out, true
}
