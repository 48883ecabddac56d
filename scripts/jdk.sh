# Sourced by ./mvnw and ./sae4j: prints the home of a JDK 25 or newer, or explains how to get one.
# Order: $JAVA_HOME if it is 25+, then the JDKs under /usr/lib/jvm (Temurin 25 on our machines),
# then the java on PATH.

sae4j_java_major() { # $1 = path to a java binary; prints its feature version
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n 1
}

sae4j_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(sae4j_java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  if command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(sae4j_java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  fi
  echo "sae4j needs a JDK 25 or newer and found none (looked at JAVA_HOME, /usr/lib/jvm and PATH)." >&2
  echo "Install one (for example Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
