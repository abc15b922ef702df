module github.com/orderflow/orderflow/services/shipping-worker

go 1.26.0

require (
	github.com/orderflow/orderflow/migrations v0.0.0
	github.com/orderflow/orderflow/shared v0.0.0
)

replace (
	github.com/orderflow/orderflow/migrations => ../../migrations
	github.com/orderflow/orderflow/shared => ../../shared
)
