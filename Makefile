# The two set-up commands of the README.
.PHONY: run test build

run:
	scripts/run.sh

test:
	scripts/test.sh

build:
	swift build
