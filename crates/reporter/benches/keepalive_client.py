# Sends N keep-alive GET requests to 127.0.0.1:PORT/orders/7 with browser-like headers.
# Usage: keepalive_client.py PORT N
import http.client, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/orders/1"); c.getresponse().read(); break
    except Exception:
        time.sleep(0.2)
h = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; rv:86.0) Firefox/86.0", "Cookie": "session=abc123; theme=dark", "Authorization": "Bearer abc.def", "Accept": "text/html"}
for _ in range(n):
    c.request("GET", "/orders/7", headers=h); r = c.getresponse(); r.read(); assert r.status == 200
