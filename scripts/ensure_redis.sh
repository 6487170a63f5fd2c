#!/usr/bin/env bash
# Make sure a Redis server answers at $REDIS_URL (default redis://127.0.0.1:6379/0).
# Starts a local redis-server (installing Debian's package if needed) when none does.
set -euo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
host=${hostport%%:*}; port=${hostport##*:}
[ "$port" = "$host" ] && port=6379

ping() { (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

if ping; then exit 0; fi
case "$host" in
  127.*|localhost) ;;
  *) echo "Redis at $url does not answer, and it is not local, so it cannot be started here." >&2; exit 1 ;;
esac
if ! command -v redis-server >/dev/null; then
  echo "==> installing redis-server"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-server >/dev/null; fi
fi
mkdir -p var/redis
echo "==> starting redis-server on $host:$port"
redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
  --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log"
for _ in $(seq 50); do ping && exit 0; sleep 0.1; done
echo "redis-server did not answer on $host:$port; see var/redis/redis.log" >&2
exit 1
