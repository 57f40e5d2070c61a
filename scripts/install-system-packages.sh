#!/usr/bin/env bash
# Debian packages the tests need (a real OCI registry on 127.0.0.1, nginx to check `deploy wasmx`
# configurations with `nginx -t`); installs only what is missing.
set -euo pipefail
packages=(docker-registry nginx-light)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
