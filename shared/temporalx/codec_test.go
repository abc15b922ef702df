package temporalx_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/temporalx"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func randomKey(t *testing.T, id string) temporalx.CodecKey {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return temporalx.CodecKey{ID: id, Key: k}
}

func keysFile(t *testing.T, keys ...temporalx.CodecKey) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# active key first\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k.ID, base64.StdEncoding.EncodeToString(k.Key))
	}
	path := filepath.Join(t.TempDir(), "codec-keys")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Rotation: the new active key seals, the old key still opens what it
// sealed; an unknown key, a relabelled key ID or a flipped bit fail.
func TestCodecRotationAndTampering(t *testing.T) {
	k1, k2 := randomKey(t, "k1"), randomKey(t, "k2")
	oldCodec, err := temporalx.LoadCodec(keysFile(t, k1))
	if err != nil {
		t.Fatal(err)
	}
	newCodec, err := temporalx.LoadCodec(keysFile(t, k2, k1))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := converter.GetDefaultDataConverter().ToPayload(domain.Address{Street: "742 Evergreen Terrace", City: "Springfield", State: "OR", ZipCode: "97001"})
	sealedOld, err := oldCodec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	sealedNew, err := newCodec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if id := string(sealedNew[0].Metadata[temporalx.MetadataKeyID]); id != "k2" {
		t.Fatalf("new payload sealed with %q, want the active k2", id)
	}
	if bytes.Contains(sealedOld[0].Data, []byte("Evergreen")) {
		t.Fatal("sealed payload holds the street in clear")
	}
	for name, sealed := range map[string]*commonpb.Payload{"old": sealedOld[0], "new": sealedNew[0]} {
		opened, err := newCodec.Decode([]*commonpb.Payload{sealed})
		if err != nil || !proto.Equal(opened[0], plain) {
			t.Fatalf("rotated codec opens %s payload: %v", name, err)
		}
	}
	if _, err := oldCodec.Decode(sealedNew); err == nil {
		t.Fatal("a codec without k2 opened a k2 payload")
	}
	relabelled := proto.Clone(sealedOld[0]).(*commonpb.Payload)
	relabelled.Metadata[temporalx.MetadataKeyID] = []byte("k2")
	if _, err := newCodec.Decode([]*commonpb.Payload{relabelled}); err == nil {
		t.Fatal("a payload relabelled with another key ID opened")
	}
	flipped := proto.Clone(sealedNew[0]).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	if _, err := newCodec.Decode([]*commonpb.Payload{flipped}); err == nil {
		t.Fatal("a tampered payload opened")
	}
	// Unsealed payloads (history from before encryption) pass through.
	if out, err := newCodec.Decode([]*commonpb.Payload{plain}); err != nil || !proto.Equal(out[0], plain) {
		t.Fatalf("plain payload: %v", err)
	}
	for _, bad := range []string{"k1 c2hvcnQ=\n", "k1\n", "k1 !!!\n", "k1 " + base64.StdEncoding.EncodeToString(k1.Key) + "\nk1 " + base64.StdEncoding.EncodeToString(k2.Key) + "\n", "# nothing\n"} {
		path := filepath.Join(t.TempDir(), "bad")
		_ = os.WriteFile(path, []byte(bad), 0o600)
		if _, err := temporalx.LoadCodec(path); err == nil {
			t.Errorf("keys file %q accepted", bad)
		}
	}
}

const secretStreet, secretPayment = "742 Evergreen Terrace", "pay-SECRET-4242"

// codecWorkflow carries an order's secrets the ways OrderWorkflow does: in
// its input, an activity's argument and result, a signal, a query answer
// and its result.
func codecWorkflow(ctx workflow.Context, in contracts.OrderInput) (contracts.OrderStatus, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	st := contracts.OrderStatus{OrderID: in.OrderID, Address: in.Address, Payment: contracts.PaymentInfo{PaymentID: in.PaymentID}}
	if err := workflow.SetQueryHandler(ctx, contracts.QueryStatus, func() (contracts.OrderStatus, error) { return st, nil }); err != nil {
		return st, err
	}
	var p contracts.SignalPayload
	workflow.GetSignalChannel(ctx, contracts.SignalUpdateAddress).Receive(ctx, &p)
	if err := workflow.ExecuteActivity(ctx, "EchoAddress", *p.Address).Get(ctx, &st.Address); err != nil {
		return st, err
	}
	return st, nil
}

// With TEMPORAL_CODEC_KEYS_FILE set, a real server's history holds no
// address or payment ID in clear, read through a client without the
// codec; a client with it, and the UI's codec endpoint, read them back.
func TestHistoryIsEncrypted(t *testing.T) {
	addr := testenv.Temporal(t)
	cfg := config.Temporal{Address: addr, Namespace: "default", CodecKeysFile: keysFile(t, randomKey(t, "k2026"))}
	log := testenv.Logger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sealed, err := temporalx.Dial(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer sealed.Close()
	raw, err := client.Dial(client.Options{HostPort: addr, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	tq := testenv.UniqueName("codec-tq")
	w := worker.New(sealed, tq, worker.Options{})
	w.RegisterWorkflowWithOptions(codecWorkflow, workflow.RegisterOptions{Name: "CodecWorkflow"})
	w.RegisterActivityWithOptions(func(_ context.Context, a domain.Address) (domain.Address, error) { return a, nil },
		activity.RegisterOptions{Name: "EchoAddress"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	id := testenv.UniqueName("codec-wf")
	in := contracts.OrderInput{OrderID: id, PaymentID: secretPayment, Items: domain.DefaultItems(),
		Address: domain.Address{Street: secretStreet, City: "Springfield", State: "OR", ZipCode: "97001"}, Owner: "alice"}
	run, err := sealed.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq,
		Memo: map[string]any{contracts.MemoPaymentID: secretPayment}}, "CodecWorkflow", in)
	if err != nil {
		t.Fatal(err)
	}
	newAddr := domain.Address{Street: "1 Secret Lane", City: "Shelbyville", State: "OR", ZipCode: "97002"}
	// The query answer travels sealed too; ask before the signal ends the run.
	var st contracts.OrderStatus
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		v, err := sealed.QueryWorkflow(ctx, id, "", contracts.QueryStatus)
		if err == nil {
			err = v.Get(&st)
		}
		return err == nil, fmt.Sprintf("query: %v", err)
	})
	if st.Payment.PaymentID != secretPayment {
		t.Fatalf("query through the codec: %+v", st)
	}
	if err := sealed.SignalWorkflow(ctx, id, "", contracts.SignalUpdateAddress, contracts.SignalPayload{CommandID: "c1", Address: &newAddr}); err != nil {
		t.Fatal(err)
	}
	var out contracts.OrderStatus
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if out.Address != newAddr || out.Payment.PaymentID != secretPayment {
		t.Fatalf("result through the codec: %+v", out)
	}

	// The raw history, as the server stores it and the UI shows it
	// without the codec.
	var history bytes.Buffer
	var payloads []*commonpb.Payload
	it := raw.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		// Binary protobuf holds payload bytes as they are, so a secret in
		// any payload shows up verbatim.
		b, _ := proto.Marshal(ev)
		history.Write(b)
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			payloads = append(payloads, a.GetInput().GetPayloads()...)
		}
	}
	desc, err := raw.DescribeWorkflow(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	memo, _ := proto.Marshal(desc.RawResponse.GetWorkflowExecutionInfo().GetMemo())
	history.Write(memo)
	if history.Len() < 500 || len(payloads) == 0 {
		t.Fatalf("history too small to prove anything (%d bytes)", history.Len())
	}
	for _, secret := range []string{secretStreet, "1 Secret Lane", secretPayment, "Springfield", "alice"} {
		if strings.Contains(history.String(), secret) {
			t.Errorf("raw history holds %q in clear", secret)
		}
	}
	if !strings.Contains(history.String(), temporalx.MetadataEncodingEncrypted) {
		t.Errorf("history payloads are not marked %s", temporalx.MetadataEncodingEncrypted)
	}
	var got contracts.OrderInput
	if err := converter.GetDefaultDataConverter().FromPayloads(&commonpb.Payloads{Payloads: payloads}, &got); err == nil {
		t.Fatalf("a client without the codec decoded the input: %+v", got)
	}

	// The codec endpoint, as the Temporal UI calls it, opens the input.
	codec, err := temporalx.LoadCodec(cfg.CodecKeysFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(converter.NewPayloadCodecHTTPHandler(codec))
	defer srv.Close()
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	res, err := http.Post(srv.URL+"/decode", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var decoded struct {
		Payloads []struct {
			Data []byte `json:"data"`
		} `json:"payloads"`
	}
	if err := json.NewDecoder(res.Body).Decode(&decoded); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("codec endpoint: %d %v", res.StatusCode, err)
	}
	if len(decoded.Payloads) != 1 || !bytes.Contains(decoded.Payloads[0].Data, []byte(secretStreet)) {
		t.Fatalf("codec endpoint did not open the input: %+v", decoded)
	}
}
