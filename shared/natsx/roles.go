package natsx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orderflow/orderflow/shared/contracts"
)

// Role is a NATS identity with the least privilege one kind of client
// needs. The server configuration (RenderServerConfig, and
// deploy/nats/orderflow.conf made from it) grants exactly these subjects.
type Role struct {
	Name string
	// Publish and Subscribe are allowed subjects; DenyPublish carves
	// exceptions out of Publish.
	Publish, DenyPublish, Subscribe []string
	// AllowResponses lets the role reply to requests it received (the
	// bridge answering live status) without a publish grant on inboxes.
	AllowResponses bool
	Doc            string
}

// Inbox is the reply prefix of a role; a role may only subscribe under its
// own, so it cannot read replies meant for another role (JetStream pull
// deliveries and acks travel on inboxes). Clients set it with
// NATS_INBOX_PREFIX (nats.CustomInboxPrefix).
func Inbox(role string) string { return "_INBOX." + role }

// jsAPI is a JetStream API subject.
func jsAPI(parts ...string) string { return "$JS.API." + strings.Join(parts, ".") }

// consumerOf grants running a pull consumer on stream: create (named,
// with or without filter), look up, fetch, acknowledge, and delete
// (ephemeral and rebuild consumers clean up after themselves).
func consumerOf(stream string) []string {
	return []string{
		jsAPI("STREAM.INFO", stream),
		jsAPI("CONSUMER.CREATE", stream), jsAPI("CONSUMER.CREATE", stream, ">"),
		jsAPI("CONSUMER.DURABLE.CREATE", stream, "*"),
		jsAPI("CONSUMER.INFO", stream, "*"),
		jsAPI("CONSUMER.DELETE", stream, "*"),
		jsAPI("CONSUMER.MSG.NEXT", stream, "*"),
		"$JS.ACK." + stream + ".>",
	}
}

// consumerNamesOf keeps a role off the services' own durable consumers of
// stream, so an external reader cannot take over or delete them.
func consumerNamesOf(stream string, names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out,
			jsAPI("CONSUMER.CREATE", stream, n), jsAPI("CONSUMER.CREATE", stream, n, ">"),
			jsAPI("CONSUMER.DURABLE.CREATE", stream, n), jsAPI("CONSUMER.DELETE", stream, n),
			jsAPI("CONSUMER.MSG.NEXT", stream, n), "$JS.ACK."+stream+"."+n+".>")
	}
	return out
}

// Roles returns every role. bridgeDurable and projectorDurable are the
// services' durable consumer names (BRIDGE_DURABLE, PROJECTOR_DURABLE).
func Roles(bridgeDurable, projectorDurable string) []Role {
	cmd, ev, res := contracts.StreamCommands, contracts.StreamEvents, contracts.StreamResults
	return []Role{
		{
			Name:      "admin",
			Doc:       "operators and the run command: creates and updates the streams (NATS_PROVISION_STREAMS)",
			Publish:   []string{">"},
			Subscribe: []string{">"},
		},
		{
			Name: "api",
			Doc:  "publishes commands, watches their results, asks the bridge for live status, follows events for the board",
			Publish: slices.Concat([]string{
				contracts.CommandsWildcard,
				contracts.StatusWildcard,
				jsAPI("STREAM.INFO", cmd),
			}, consumerOf(res), consumerOf(ev)),
			DenyPublish: consumerNamesOf(ev, projectorDurable),
			Subscribe:   []string{contracts.ResultsWildcard, Inbox("api") + ".>"},
		},
		{
			Name: "bridge",
			Doc:  "consumes ORDER_COMMANDS, publishes results and dead letters, answers live status",
			Publish: slices.Concat([]string{
				contracts.ResultsWildcard,
				contracts.DLQCommands,
				jsAPI("STREAM.MSG.GET", cmd),
				jsAPI("DIRECT.GET", cmd), jsAPI("DIRECT.GET", cmd, ">"),
			}, consumerOf(cmd)),
			Subscribe: []string{
				contracts.StatusWildcard,
				"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + cmd + "." + bridgeDurable,
				Inbox("bridge") + ".>",
			},
			AllowResponses: true,
		},
		{
			Name:      "order-worker",
			Doc:       "publishes order events",
			Publish:   []string{contracts.EventsWildcard, jsAPI("STREAM.INFO", ev)},
			Subscribe: []string{Inbox("order-worker") + ".>"},
		},
		{
			Name:      "shipping-worker",
			Doc:       "no NATS traffic today (its events go through the order workflow); may only connect",
			Publish:   []string{},
			Subscribe: []string{Inbox("shipping-worker") + ".>"},
		},
		{
			Name:      "projector",
			Doc:       "consumes ORDER_EVENTS, dead-letters poison events",
			Publish:   slices.Concat([]string{contracts.DLQEvents}, consumerOf(ev)),
			Subscribe: []string{Inbox("projector") + ".>"},
		},
		{
			Name:      "command-publisher",
			Doc:       "external system: publishes commands (naming their owner) and reads their results",
			Publish:   []string{contracts.CommandsWildcard},
			Subscribe: []string{contracts.ResultsWildcard, Inbox("command-publisher") + ".>"},
		},
		{
			Name:        "event-reader",
			Doc:         "external system: reads order events, live or through its own JetStream consumer",
			Publish:     consumerOf(ev),
			DenyPublish: consumerNamesOf(ev, projectorDurable),
			Subscribe:   []string{contracts.EventsWildcard, Inbox("event-reader") + ".>"},
		},
	}
}

// ServerUser is one login of the rendered configuration: an nkey public
// key, or a user with a password (written as given: a bcrypt hash, or a
// $VARIABLE the server reads from its environment).
type ServerUser struct {
	Role     string
	NKey     string
	User     string
	Password string
}

// RenderServerConfig writes a nats-server configuration: one account,
// ORDERFLOW, with JetStream, whose users hold the roles' permissions, and
// the system account. listen and storeDir may be empty (defaults).
func RenderServerConfig(listen, storeDir string, roles []Role, users []ServerUser) (string, error) {
	byName := map[string]Role{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	var b strings.Builder
	b.WriteString("# orderflow NATS server configuration: one account, least-privilege users per role.\n")
	b.WriteString("# Generated by natsx.RenderServerConfig; see README, Security.\n")
	if listen != "" {
		fmt.Fprintf(&b, "listen: %q\n", listen)
	}
	b.WriteString("jetstream {\n")
	if storeDir != "" {
		fmt.Fprintf(&b, "  store_dir: %q\n", storeDir)
	}
	b.WriteString("}\n")
	b.WriteString("accounts {\n  ORDERFLOW {\n    jetstream: enabled\n    users: [\n")
	for _, u := range users {
		r, ok := byName[u.Role]
		if !ok {
			return "", fmt.Errorf("user of unknown role %q", u.Role)
		}
		b.WriteString("      {\n")
		switch {
		case u.NKey != "":
			fmt.Fprintf(&b, "        nkey: %s\n", u.NKey)
		case u.User != "":
			fmt.Fprintf(&b, "        user: %q\n        password: %s\n", u.User, u.Password)
		default:
			return "", fmt.Errorf("user of role %s has neither nkey nor user", u.Role)
		}
		fmt.Fprintf(&b, "        # role %s: %s\n", r.Name, r.Doc)
		b.WriteString("        permissions: {\n")
		// An empty allow list would mean "anything": deny everything instead.
		switch {
		case len(r.Publish) == 0:
			b.WriteString(`          publish: { deny: [">"] }` + "\n")
		case len(r.DenyPublish) > 0:
			fmt.Fprintf(&b, "          publish: { allow: %s, deny: %s }\n", quoteList(r.Publish), quoteList(r.DenyPublish))
		default:
			fmt.Fprintf(&b, "          publish: { allow: %s }\n", quoteList(r.Publish))
		}
		fmt.Fprintf(&b, "          subscribe: { allow: %s }\n", quoteList(r.Subscribe))
		if r.AllowResponses {
			b.WriteString("          allow_responses: true\n")
		}
		b.WriteString("        }\n      }\n")
	}
	b.WriteString("    ]\n  }\n  SYS {}\n}\nsystem_account: SYS\n")
	return b.String(), nil
}

// PasswordVar is the environment variable the shipped configuration reads
// a role's password from: ORDERFLOW_NATS_<ROLE>_PASSWORD.
func PasswordVar(role string) string {
	return "ORDERFLOW_NATS_" + strings.ToUpper(strings.ReplaceAll(role, "-", "_")) + "_PASSWORD"
}

// ShippedServerConfig is deploy/nats/orderflow.conf: one user per role,
// named after it, whose password the server reads from PasswordVar(role)
// (plain or a bcrypt hash from `nats server passwd`).
func ShippedServerConfig() (string, error) {
	roles := Roles("bridge", "projector")
	users := make([]ServerUser, len(roles))
	for i, r := range roles {
		users[i] = ServerUser{Role: r.Name, User: r.Name, Password: "$" + PasswordVar(r.Name)}
	}
	return RenderServerConfig("0.0.0.0:4222", "", roles, users)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
