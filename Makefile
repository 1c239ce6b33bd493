# livestreamd
#   make run    set up what is missing, build, run nginx + livestreamd in the foreground
#   make test   set up what is missing, build, run every test
#   make bench  the benchmark (prints figures; not a test)
#   make aws-emulator PORT=N  the AWS emulator of the tests, on 127.0.0.1:N
#   make install [PREFIX=/usr/local] [DESTDIR=]  binary, archiver, units, sample config (scripts/install.sh)
#   make deb    a Debian package of the same tree (scripts/deb.sh)

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: run test setup setup-test build release unit e2e bench clean aws-emulator install deb

run: setup release
	scripts/run-local.sh

test: setup-test build unit e2e

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test
	python3 -m pip install -q -r Tests/EndToEnd/requirements.txt

build:
	swift build

release:
	swift build -c release --product livestreamd

unit:
	swift test

e2e:
	LIVESTREAMD_BIN="$$(swift build --show-bin-path)/livestreamd" python3 -m pytest -q Tests/EndToEnd

bench: setup-test release
	bench/run.sh

clean:
	rm -rf .build var

# The AWS emulator the tests use (moto + Tests/AWSEmulator extensions), in the foreground on 127.0.0.1:$(PORT).
aws-emulator:
	@test -n "$(PORT)" || { echo "usage: make aws-emulator PORT=N"; exit 2; }
	python3 Tests/AWSEmulator/aws_emulator.py --port $(PORT)

install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" scripts/install.sh

deb:
	scripts/deb.sh
