// Package headless drives Debian's headless Chromium from tests over the
// DevTools protocol on a pipe, for the tests of the registry page. With
// CI=true a missing browser fails the test instead of skipping it.
package headless

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium, which scripts/test-deps.sh installs.
const chromiumPath = "/usr/bin/chromium"

// Browser drives a headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: the browser reads NUL-terminated JSON on fd 3
// and writes on fd 4), so the test needs no port and no WebSocket client.
type Browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	send    *os.File
	recv    *os.File
	rd      *bufio.Reader
	id      int
	session string
}

func Start(t *testing.T) *Browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium missing under CI: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	toBrowser, ourSend, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ourRecv, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser} // fd 3, fd 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	b := &Browser{t: t, cmd: cmd, send: ourSend, recv: ourRecv, rd: bufio.NewReader(ourRecv)}
	t.Cleanup(func() { b.stop(&stderr) })

	var target struct{ TargetID string }
	b.Call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	b.Call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	b.Call(b.session, "Page.enable", nil, nil)
	b.Call(b.session, "Runtime.enable", nil, nil)
	return b
}

// stop asks the browser to quit and kills it by its PID when it does not
// within 5s.
func (b *Browser) stop(stderr *bytes.Buffer) {
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	b.id++
	msg, _ := json.Marshal(map[string]any{"id": b.id, "method": "Browser.close"})
	b.send.SetWriteDeadline(time.Now().Add(2 * time.Second))
	b.send.Write(append(msg, 0))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
	b.send.Close()
	b.recv.Close()
	if b.t.Failed() && stderr.Len() > 0 {
		b.t.Logf("chromium stderr:\n%s", stderr.String())
	}
}

// Call sends one command and waits (at most 15s) for its answer, passing
// over the events in between.
func (b *Browser) Call(session, method string, params any, result any) {
	b.t.Helper()
	if err := b.try(session, method, params, result); err != nil {
		b.t.Fatal(err)
	}
}

func (b *Browser) try(session, method string, params any, result any) error {
	b.id++
	req := map[string]any{"id": b.id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if session != "" {
		req["sessionId"] = session
	}
	msg, err := json.Marshal(req)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	b.send.SetWriteDeadline(deadline)
	if _, err := b.send.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: send: %w", method, err)
	}
	b.recv.SetReadDeadline(deadline)
	for {
		line, err := b.rd.ReadBytes(0)
		if err != nil {
			return fmt.Errorf("%s: read: %w", method, err)
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line[:len(line)-1], &resp); err != nil {
			return fmt.Errorf("%s: decode %q: %w", method, line, err)
		}
		if resp.ID != b.id {
			continue // an event, or an answer to nothing we wait for
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(resp.Result, result)
		}
		return nil
	}
}

// Eval runs a JavaScript expression in the page and decodes its value.
func (b *Browser) Eval(expr string, v any) {
	b.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.Call(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("eval %s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if v != nil {
		if err := json.Unmarshal(r.Result.Value, v); err != nil {
			b.t.Fatalf("eval %s: value %s: %v", expr, r.Result.Value, err)
		}
	}
}

// WaitFor polls a boolean expression every 50ms for at most 10s.
func (b *Browser) WaitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		// between a navigation and the new document the expression may
		// throw (no body yet): that is "not yet"
		b.Eval("(() => { try { return !!("+expr+"); } catch (e) { return false; } })()", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var dom string
			b.Eval("document.body ? document.body.innerText : ''", &dom)
			b.t.Fatalf("waited 10s for %s (%s); page text:\n%s", what, expr, dom)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Call(b.session, "Page.navigate", map[string]any{"url": url}, nil)
}

func (b *Browser) Viewport(width, height int, mobile bool) {
	b.t.Helper()
	b.Call(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
	}, nil)
}

// Screenshot writes a PNG of the page to path.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	var r struct{ Data string }
	b.Call(b.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": false}, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s (%d bytes)", path, len(png))
}

// ArtifactDir is where the screenshots go: $OPSWEB_ARTIFACTS when set (CI
// keeps it), else the test's temp dir.
func ArtifactDir(t *testing.T) string {
	if d := os.Getenv("OPSWEB_ARTIFACTS"); d != "" {
		return d
	}
	return t.TempDir()
}
