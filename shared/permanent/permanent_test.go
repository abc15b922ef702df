package permanent_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/orderflow/orderflow/shared/permanent"
)

func TestPermanentSurvivesWrapping(t *testing.T) {
	base := errors.New("invalid argument")
	err := fmt.Errorf("start order: %w", permanent.Wrap(base))
	if !permanent.Is(err) || !errors.Is(err, base) || err.Error() != "start order: permanent: invalid argument" {
		t.Fatalf("wrapped: %v (is %v)", err, permanent.Is(err))
	}
	if permanent.Is(base) || permanent.Is(nil) || permanent.Wrap(nil) != nil {
		t.Fatal("only marked errors are permanent, and nil stays nil")
	}
}
