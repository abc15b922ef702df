package adapters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orderflow/orderflow/services/api/internal/app"
)

// AuthOptions say where credentials come from. With neither a keys file nor a
// JWKS, authentication is off.
type AuthOptions struct {
	KeysFile       string        // API keys file (see ParseKeys)
	ReloadInterval time.Duration // how often the keys and JWKS files are checked for changes
	JWKSFile       string        // JWKS on disk, reloaded like the keys file
	JWKSURL        string        // JWKS over HTTP(S), refreshed by a cache
	Issuer         string        // required `iss` of JWTs, when set
	Audience       string        // required `aud` of JWTs, when set
}

// Authenticator checks bearer credentials. The keys file and the JWKS file
// are re-read every ReloadInterval and swapped in when their content
// changes; a file that no longer parses keeps the previous keys and is
// logged, so a half-written edit never locks everyone out or lets anyone in.
type Authenticator struct {
	opts AuthOptions
	log  *slog.Logger
	keys atomic.Pointer[Keys]
	jwks atomic.Pointer[jwk.Set]

	stop context.CancelFunc
	done sync.WaitGroup
}

// NewAuthenticator loads the configured credentials and starts watching
// the files. An unreadable or invalid file at start is an error. Close
// stops the watcher.
func NewAuthenticator(opts AuthOptions, log *slog.Logger) (*Authenticator, error) {
	a := &Authenticator{opts: opts, log: log}
	ctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	var watched []watchedFile
	if opts.KeysFile != "" {
		f := watchedFile{path: opts.KeysFile, what: "API keys", load: a.loadKeys}
		if err := f.check(); err != nil {
			cancel()
			return nil, err
		}
		watched = append(watched, f)
	}
	switch {
	case opts.JWKSFile != "" && opts.JWKSURL != "":
		cancel()
		return nil, errors.New("set either a JWKS file or a JWKS URL, not both")
	case opts.JWKSFile != "":
		f := watchedFile{path: opts.JWKSFile, what: "JWKS", load: a.loadJWKS}
		if err := f.check(); err != nil {
			cancel()
			return nil, err
		}
		watched = append(watched, f)
	case opts.JWKSURL != "":
		set, err := cachedJWKS(ctx, opts.JWKSURL)
		if err != nil {
			cancel()
			return nil, err
		}
		a.jwks.Store(&set)
	}
	if len(watched) > 0 && opts.ReloadInterval > 0 {
		a.done.Add(1)
		go a.watch(ctx, watched)
	}
	return a, nil
}

// Close stops watching the files.
func (a *Authenticator) Close() {
	a.stop()
	a.done.Wait()
}

// Enabled reports whether any credentials are configured; when not, the
// API is open.
func (a *Authenticator) Enabled() bool {
	return a.opts.KeysFile != "" || a.opts.JWKSFile != "" || a.opts.JWKSURL != ""
}

// Authenticate resolves a bearer token to its client: an API key by its
// digest, or a JWT (three dot-separated parts) verified against the JWKS.
// Client ID: the JWT's client_id claim, else its sub; scopes: its space
// separated scope claim, or the scp list.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (app.Client, error) {
	if token == "" {
		return app.Client{}, app.ErrUnauthenticated
	}
	if keys := a.keys.Load(); keys != nil {
		if c, ok := (*keys)[HashKey(token)]; ok {
			return c, nil
		}
	}
	set := a.jwks.Load()
	if set == nil || strings.Count(token, ".") != 2 {
		return app.Client{}, app.ErrUnauthenticated
	}
	opts := []jwt.ParseOption{
		jwt.WithKeySet(*set, jws.WithInferAlgorithmFromKey(true)),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(30 * time.Second),
		jwt.WithContext(ctx),
	}
	if a.opts.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(a.opts.Issuer))
	}
	if a.opts.Audience != "" {
		opts = append(opts, jwt.WithAudience(a.opts.Audience))
	}
	tok, err := jwt.Parse([]byte(token), opts...)
	if err != nil {
		return app.Client{}, fmt.Errorf("%w: jwt: %w", app.ErrUnauthenticated, err)
	}
	return jwtClient(tok)
}

func jwtClient(tok jwt.Token) (app.Client, error) {
	var c app.Client
	if err := tok.Get("client_id", &c.ID); err != nil {
		c.ID, _ = tok.Subject()
	}
	if err := app.ValidateClientID(c.ID); err != nil {
		return app.Client{}, fmt.Errorf("%w: jwt subject: %w", app.ErrUnauthenticated, err)
	}
	var names []string
	var scope string
	if err := tok.Get("scope", &scope); err == nil {
		names = strings.Fields(scope)
	} else {
		// scp is a list (Okta, Azure) or a space-separated string.
		var scp any
		if err := tok.Get("scp", &scp); err == nil {
			switch v := scp.(type) {
			case string:
				names = strings.Fields(v)
			case []any:
				for _, e := range v {
					if s, ok := e.(string); ok {
						names = append(names, s)
					}
				}
			}
		}
	}
	// Unknown scopes in a token are other services' business: ignore them.
	for _, n := range names {
		for _, s := range app.Scopes {
			if app.Scope(n) == s {
				c.Scopes = append(c.Scopes, s)
			}
		}
	}
	return c, nil
}

func (a *Authenticator) loadKeys(data []byte) (int, error) {
	keys, err := ParseKeys(data)
	if err != nil {
		return 0, err
	}
	a.keys.Store(&keys)
	return len(keys), nil
}

func (a *Authenticator) loadJWKS(data []byte) (int, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return 0, err
	}
	if set.Len() == 0 {
		return 0, errors.New("JWKS has no keys")
	}
	a.jwks.Store(&set)
	return set.Len(), nil
}

// cachedJWKS registers url with a refreshing cache and returns the set it
// keeps current.
func cachedJWKS(ctx context.Context, url string) (jwk.Set, error) {
	cache, err := jwk.NewCache(ctx, httprc.NewClient())
	if err != nil {
		return nil, fmt.Errorf("jwks cache: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cache.Register(rctx, url); err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	set, err := cache.CachedSet(url)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", url, err)
	}
	return set, nil
}

// watchedFile is a file whose parsed content replaces the live one when
// its bytes change.
type watchedFile struct {
	path string
	what string
	load func([]byte) (int, error)
	last []byte
}

// check reads the file and loads it when it changed since the last check.
func (f *watchedFile) check() error {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("read %s file: %w", f.what, err)
	}
	if f.last != nil && bytes.Equal(data, f.last) {
		return nil
	}
	if _, err := f.load(data); err != nil {
		return fmt.Errorf("%s file %s: %w", f.what, f.path, err)
	}
	f.last = data
	return nil
}

// watch polls the files. Polling the content (not fsnotify events) also
// sees a file replaced by rename or a Kubernetes secret's symlink swap.
func (a *Authenticator) watch(ctx context.Context, files []watchedFile) {
	defer a.done.Done()
	t := time.NewTicker(a.opts.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i := range files {
			before := files[i].last
			if err := files[i].check(); err != nil {
				a.log.Error("credentials file not reloaded; keeping the previous content", "file", files[i].path, "error", err)
				continue
			}
			if !bytes.Equal(before, files[i].last) {
				a.log.Info("credentials file reloaded", "file", files[i].path, "what", files[i].what)
			}
		}
	}
}
