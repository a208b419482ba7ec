# The two set-up commands of the README (run, test), and the builds.
.PHONY: run test build release deb

run:
	scripts/run.sh

test:
	scripts/test.sh

build:
	swift build

# The release binary: static Swift runtime, packed relocations (Package.swift, releaseLinkFlags).
release:
	swift build -c release --static-swift-stdlib --product strata

# The Debian package of the release binary (docs/packaging.md): .build/deb/strata_VERSION_ARCH.deb
deb: release
	scripts/build-deb.sh .build/release/strata .build/deb
