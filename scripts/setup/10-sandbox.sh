#!/usr/bin/env bash
# Sandbox prerequisites: bubblewrap (namespaces), libseccomp (seccomp deny list, via pyseccomp), and the
# toolchains of the optional languages (node, g++, JDK). Idempotent and fast when all is present.
# Installs with apt-get when running as root on Debian/Ubuntu; otherwise says what to install.
set -euo pipefail

need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; then need+=(libseccomp2); fi
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v node >/dev/null 2>&1 || need+=(nodejs)
if ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then need+=(default-jdk-headless); fi

if [ ${#need[@]} -eq 0 ]; then
  echo "sandbox: bubblewrap, libseccomp, g++, node and the JDK are present"
else
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "sandbox: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Quiet on success; on failure apt's and dpkg's whole output, so that the cause can be read.
    log=$(mktemp)
    if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "sandbox: apt-get install ${need[*]} failed (apt's output above)" >&2
      exit 1
    fi
    rm -f "$log"
  else
    echo "sandbox: missing ${need[*]}." >&2
    echo "  Install them (Debian/Ubuntu: sudo apt-get install ${need[*]}); bubblewrap and libseccomp2 are" >&2
    echo "  required for sandbox.isolation=full, the others only for javascript/cpp/java." >&2
    case " ${need[*]} " in *" bubblewrap "*|*" libseccomp2 "*) exit 1 ;; esac
  fi
fi

# Unprivileged user namespaces are how workers drop root; say so clearly when the kernel forbids them.
if [ -r /proc/sys/user/max_user_namespaces ] && [ "$(cat /proc/sys/user/max_user_namespaces)" = "0" ]; then
  echo "sandbox: user namespaces are disabled (user.max_user_namespaces=0); enable them or run the sandbox" \
       "with sandbox.isolation=none (development only)" >&2
fi
