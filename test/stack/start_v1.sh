# start_v1.sh: Rekor v1 over Trillian over MariaDB, sourced by start.sh after
# the TSA is up (Rekor v1 then fails to bind metrics on :2112 and carries on).
# Uses start.sh's dir, host, ports, spawn, wait_until and fail.
# shellcheck shell=bash disable=SC2154 # variables come from start.sh

for t in rekor-server trillian_log_server trillian_log_signer; do
	[[ -x $(stack_bin "$t") ]] || { log "$(stack_bin "$t") is missing: run test/stack/install.sh"; exit 1; }
done
[[ -s $TRILLIAN_SCHEMA ]] || { log "$TRILLIAN_SCHEMA is missing: run test/stack/install.sh"; exit 1; }
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
[[ -x $mariadbd ]] || { log "mariadbd is missing: run test/stack/install.sh"; exit 1; }

# MariaDB on a unix socket only: no TCP port to collide with.
sock=$dir/mysql/mysqld.sock
# An empty data directory is made once per cache (about 5 s) and copied.
template=$STACK_CACHE/mariadb-datadir-$("$mariadbd" --version 2>/dev/null | awk '{print $3}')
if [[ ! -d $template ]]; then
	rm -rf "$template.tmp"
	mariadb-install-db --no-defaults --datadir="$template.tmp" --user=root \
		--auth-root-authentication-method=normal --skip-test-db >"$dir/logs/mariadb-install.log" 2>&1 ||
		fail mariadb-install "mariadb-install-db failed"
	mv "$template.tmp" "$template"
fi
mkdir -p "$dir/mysql"
cp -a "$template" "$dir/mysql/data"
spawn mariadb "$mariadbd" --no-defaults --datadir="$dir/mysql/data" --socket="$sock" --skip-networking \
	--user=root --pid-file="$dir/mysql/mysqld.pid" --innodb-buffer-pool-size=64M
wait_until mariadb mariadb-admin --no-defaults --socket="$sock" -uroot ping
sql() { mariadb --no-defaults --socket="$sock" -uroot "$@"; }
sql -e 'CREATE DATABASE trillian; CREATE DATABASE rekor;' || fail mariadb "creating databases failed"
sql trillian <"$TRILLIAN_SCHEMA" || fail mariadb "loading Trillian's schema failed"

# Trillian log server and signer.
mysql_uri="root@unix($sock)/trillian"
spawn trillian-server "$(stack_bin trillian_log_server)" --storage_system=mysql --quota_system=mysql \
	--mysql_uri="$mysql_uri" --rpc_endpoint="$host:$trillian_port" --http_endpoint="$host:$trillian_http_port"
wait_until trillian-server http_ok "http://$host:$trillian_http_port/healthz"
spawn trillian-signer "$(stack_bin trillian_log_signer)" --storage_system=mysql --quota_system=mysql \
	--mysql_uri="$mysql_uri" --rpc_endpoint="$host:$signer_port" --http_endpoint="$host:$signer_http_port" \
	--force_master
wait_until trillian-signer http_ok "http://$host:$signer_http_port/healthz"

# Rekor v1 creates its Trillian tree itself. Its --rekor_server.hostname is the
# checkpoint signer name that clients match against the baseUrl's hostname.
spawn rekor-v1 "$(stack_bin rekor-server)" serve --rekor_server.address "$host" --port "$rekor1_port" \
	--rekor_server.hostname "$host" --rekor_server.signer memory \
	--trillian_log_server.address "$host" --trillian_log_server.port "$trillian_port" \
	--search_index.storage_provider mysql --search_index.mysql.dsn "root@unix($sock)/rekor"
wait_until rekor-v1 http_ok "http://$host:$rekor1_port/api/v1/log"
