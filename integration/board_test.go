package integration_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/integration/stack"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/testenv"
)

// TestBoardShowsOrdersLive opens /board in headless Chromium on the running
// system, starts orders after the page is live, and sees a manual-review
// order appear in awaiting_approval and, once approved, move to shipped,
// without a reload; the histogram counts the finished orders and a click
// shows the order's timeline. A screenshot is kept as the test's artifact
// and, with UPDATE_BOARD_SCREENSHOT set, copied to docs/board.png for the
// README.
func TestBoardShowsOrdersLive(t *testing.T) {
	browser := testenv.Chromium(t, "the board test") // .ci/run installs it
	// The exercise's fault rates, seeded: the board shows retries and errors.
	s := stack.Start(t, stack.Options{Faults: faults.Config{FailRate: 0.33, HangRate: 0.34, Seed: 15}})
	c := s.Client(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1600, 1000))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// Start the browser without a timeout (a timeout on the first call
	// would bound the browser's life), then bound the test's steps.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	bctx, cancel := context.WithTimeout(browserCtx, 2*time.Minute)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	do("open the board",
		chromedp.Navigate(s.APIURL+"/board"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="true"]`)),
	)
	// A reload would lose this.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.__sameDocument = "yes"`)); err != nil {
		t.Fatal(err)
	}

	ctx, cancelOrders := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancelOrders()
	held := testenv.UniqueName("board")
	if _, err := c.Start(ctx, held, client.StartOrder{PaymentID: "pay-" + held, ManualReview: true}); err != nil {
		t.Fatal(err)
	}
	others := make([]string, 6)
	for i := range others {
		others[i] = testenv.UniqueName("board-auto")
		if _, err := c.Start(ctx, others[i], client.StartOrder{PaymentID: "pay-" + others[i]}); err != nil {
			t.Fatal(err)
		}
	}
	card := func(state, id string) chromedp.CSS {
		return chromedp.CSS(`.column[data-state="` + state + `"] .card[data-order-id="` + id + `"]`)
	}
	do("the new order appears awaiting approval", chromedp.WaitVisible(card("awaiting_approval", held)))
	if _, err := c.Approve(ctx, held, client.WithWait(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	do("the approved order moves to shipped", chromedp.WaitVisible(card("shipped", held)))
	for _, id := range others {
		do(id+" shipped", chromedp.WaitVisible(card("shipped", id)))
	}

	same, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.__sameDocument || "reloaded"`))
	if err != nil || same != "yes" {
		t.Fatalf("the page was reloaded (%q, %v)", same, err)
	}
	if got := text(`[data-count="shipped"]`); got != strconv.Itoa(1+len(others)) {
		t.Errorf("shipped count %q, want %d", got, 1+len(others))
	}
	if stats := text(`#histstats`); !strings.HasPrefix(stats, strconv.Itoa(1+len(others))+" finished") {
		t.Errorf("histogram stats %q, want %d finished", stats, 1+len(others))
	}

	do("open the timeline",
		chromedp.Click(card("shipped", held)),
		chromedp.WaitVisible(chromedp.CSS(`table[data-timeline="`+held+`"] tr[data-event="shipped"]`)),
	)
	timeline := text(`#timeline`)
	for _, want := range []string{"awaiting_approval", "approved", "payment_charged", "charged", "tracking", "Attempts per step", "charge_payment", "Signals", "approve"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dsts := []string{filepath.Join(t.ArtifactDir(), "board.png")}
	// The README's copy only on request: a test run leaves the tree clean.
	if os.Getenv("UPDATE_BOARD_SCREENSHOT") != "" {
		dsts = append(dsts, filepath.Join(testenv.RepoRoot(t), "docs", "board.png"))
	}
	for _, dst := range dsts {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot: %s (%d bytes), written to %v", filepath.Join(t.ArtifactDir(), "board.png"), len(png), dsts)
}
