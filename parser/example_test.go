package parser_test

import (
	"fmt"

	"github.com/sansip/sansip/parser"
)

func ExampleFramer() {
	var f parser.Framer // a connection this side accepted
	stream := "\r\n\r\nOPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: 2\r\n\r\nhi"
	// Bytes arrive in any chunks; here, three at a time.
	for i := 0; i < len(stream); i += 3 {
		f.Write([]byte(stream[i:min(i+3, len(stream))]))
		for {
			fr, err := f.Next()
			if err != nil {
				fmt.Println("close the connection:", err)
				return
			}
			if fr.Kind == parser.None {
				break
			}
			fmt.Println(fr.Kind, len(fr.Data))
		}
	}
	// Output:
	// ping 0
	// message 71
}

func ExampleScan() {
	x, err := parser.Scan("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n", parser.Datagram, nil, nil)
	fmt.Println(x.StatusCode, x.Reason, len(x.Fields), x.Fields[0].Name(), err)
	// Output:
	// 180 Ringing 2 Via <nil>
}
