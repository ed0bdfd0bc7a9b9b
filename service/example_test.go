package service_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// Example runs a service on loopback whose routing callback sends
// requests for "echo" to the local UA, which answers MESSAGEs with their
// own text, and refuses everything else; then it sends itself a MESSAGE.
func Example() {
	svc, err := service.New(service.Config{
		UDP:     []string{"127.0.0.1:0"},
		Domains: []string{"localhost"},
		Route: func(r *service.Request) {
			if r.RequestURI().User == "echo" {
				r.Local()
				return
			}
			r.Reply(403, "Forbidden (only echo here)")
		},
		OnRequest: func(r *service.IncomingRequest) {
			r.Reply(200, ua.ReplyOptions{ContentType: "text/plain", Body: []byte(strings.ToUpper(string(r.Body())))})
		},
	})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	go svc.Run(ctx)
	<-svc.Ready()
	host, port := svc.Host()
	for _, user := range []string{"echo", "nobody"} {
		target, _ := uri.Parse(fmt.Sprintf("sip:%s@%s:%d", user, host, port))
		resp, err := svc.Request(ctx, "MESSAGE", target, service.RequestOptions{ContentType: "text/plain", Body: []byte("hello")})
		if err != nil {
			panic(err)
		}
		fmt.Println(user+":", resp.StatusCode(), resp.Reason(), resp.Body())
	}
	stop()
	<-svc.Done()
	// Output:
	// echo: 200 OK HELLO
	// nobody: 403 Forbidden (only echo here)
}
