# A TLS + HTTP/2 nginx for the tests that need a real one (tests/tls.bats).
#
#     load helper
#     load nginx
#     setup_file()    { start_nginx; }
#     teardown_file() { stop_nginx; }
#
# start_nginx makes, under $BATS_FILE_TMPDIR/nginx:
#   ca.pem            a self-signed CA (what --cacert is given)
#   server.pem/.key   a certificate for IP 127.0.0.1 signed by that CA
#   www/              the static files served: small.txt, data.bin, and
#                     f0.txt .. f19.txt
#   access.log        one line per request: "$connection $server_protocol
#                     $request_uri $status"
# and exports NGINX_PORT, NGINX_BASE (https://127.0.0.1:PORT), NGINX_H2C
# (http://127.0.0.1:PORT2, HTTP/2 without TLS: prior knowledge), NGINX_DIR,
# NGINX_CA, NGINX_LOG and NGINX_PID.  When nginx or openssl is missing,
# start_nginx returns 0 with NGINX_MISSING set to the reason; tests call
# require_nginx first so that they are skipped with that reason.

# Skip the calling test when start_nginx could not run nginx.
require_nginx() {
	if [[ -n "${NGINX_MISSING:-}" ]]; then
		skip "$NGINX_MISSING"
	fi
}

# Make the CA and the server certificate in $NGINX_DIR (quietly).
_nginx_certs() {
	local d="$NGINX_DIR"

	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 \
		-subj "/CN=gather test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=127.0.0.1" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 ||
		return 1
	printf '%s\n' \
		'basicConstraints=CA:FALSE' \
		'keyUsage=critical,digitalSignature,keyEncipherment' \
		'extendedKeyUsage=serverAuth' \
		'subjectAltName=IP:127.0.0.1' >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
		-CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/server.ext" -out "$d/server.pem" >/dev/null 2>&1
}

# Print the main-context lines every configuration here starts with:
# no daemon, a master and $1 workers (default 1), pid file and error log in
# $NGINX_DIR.
nginx_conf_main() {
	# Only a master running as root switches users; make its workers
	# the current user so that they can read the files under the tmp dir.
	if [[ "$(id -u)" -eq 0 ]]; then
		echo "user $(id -un) $(id -gn);"
	fi
	cat <<CONF
daemon off;
master_process on;
worker_processes ${1:-1};
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
CONF
}

# Print the http-context temp paths, all inside $NGINX_DIR/tmp.
nginx_conf_temp_paths() {
	local t

	for t in client_body proxy fastcgi uwsgi scgi; do
		printf '\t%s_temp_path %s/tmp/%s;\n' "$t" "$NGINX_DIR" "${t#client_}"
	done
}

# Write $NGINX_DIR/nginx.conf for port $1 (TLS) and port $2 (h2c).
_nginx_conf() {
	local d="$NGINX_DIR"

	{
		nginx_conf_main 1
		echo 'events { worker_connections 256; }'
		echo 'http {'
		nginx_conf_temp_paths
		cat <<CONF
	log_format gather '\$connection \$server_protocol \$request_uri \$status';
	access_log $d/access.log gather;
	default_type application/octet-stream;
	types { text/plain txt; }
	keepalive_requests 10000;
	http2_max_concurrent_streams 128;
	server {
		listen 127.0.0.1:$1 ssl http2;
		ssl_certificate $d/server.pem;
		ssl_certificate_key $d/server.key;
		root $d/www;
	}
	server {
		listen 127.0.0.1:$2 http2;
		root $d/www;
	}
}
CONF
	} >"$d/nginx.conf"
}

# Succeed when the nginx of _nginx_conf answers on its TLS port $1.
_nginx_ready() {
	curl -q -s -o /dev/null --max-time 1 --cacert "$NGINX_DIR/ca.pem" \
		"https://127.0.0.1:$1/small.txt"
}

# Print a free TCP port of 127.0.0.1 (bound, then closed).
nginx_free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run nginx on $NGINX_DIR/nginx.conf, written by the command "$1 PORT PORT2"
# for two free ports of 127.0.0.1, until "$2 PORT PORT2" succeeds; another
# pair of ports is tried when nginx cannot start (a port found free can be
# taken before nginx binds it).  Sets NGINX_PID, NGINX_PORT and
# NGINX_PORT2; on failure prints nginx's error log and returns 1.  Call it
# from the shell that will stop nginx, not from a subshell.
nginx_launch() {
	local write_conf="$1" ready="$2" i try port port2

	for ((try = 0; try < 5; try++)); do
		port=$(nginx_free_port)
		port2=$(nginx_free_port)
		"$write_conf" "$port" "$port2"
		: >"$NGINX_DIR/access.log"
		: >"$NGINX_DIR/error.log"
		nginx -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" \
			-c "$NGINX_DIR/nginx.conf" 3>&- </dev/null \
			>>"$NGINX_DIR/stderr.log" 2>&1 &
		NGINX_PID=$!
		for ((i = 0; i < 100; i++)); do
			"$ready" "$port" "$port2" && break
			kill -0 "$NGINX_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$NGINX_PID" 2>/dev/null && ((i < 100)); then
			NGINX_PORT=$port
			NGINX_PORT2=$port2
			return 0
		fi
		kill "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=""
	done
	echo "nginx did not start; its error log:" >&2
	cat "$NGINX_DIR/error.log" "$NGINX_DIR/stderr.log" >&2
	return 1
}

# Start nginx; export what the header above says.
start_nginx() {
	local i

	NGINX_MISSING=""
	if ! command -v nginx >/dev/null 2>&1; then
		NGINX_MISSING="nginx is not installed (apt-get install nginx-light)"
	elif ! command -v openssl >/dev/null 2>&1; then
		NGINX_MISSING="openssl is not installed (apt-get install openssl)"
	fi
	export NGINX_MISSING
	[[ -n "$NGINX_MISSING" ]] && return 0

	NGINX_DIR="$BATS_FILE_TMPDIR/nginx"
	mkdir -p "$NGINX_DIR/tmp" "$NGINX_DIR/www"
	if ! _nginx_certs; then
		echo "openssl could not make the test certificates" >&2
		return 1
	fi
	printf 'small file\n' >"$NGINX_DIR/www/small.txt"
	head -c 5000 /dev/urandom >"$NGINX_DIR/www/data.bin"
	for ((i = 0; i < 20; i++)); do
		printf 'file %d\n' "$i" >"$NGINX_DIR/www/f$i.txt"
	done

	nginx_launch _nginx_conf _nginx_ready || return 1
	NGINX_BASE="https://127.0.0.1:$NGINX_PORT"
	NGINX_H2C="http://127.0.0.1:$NGINX_PORT2"
	NGINX_CA="$NGINX_DIR/ca.pem"
	NGINX_LOG="$NGINX_DIR/access.log"
	export NGINX_DIR NGINX_PORT NGINX_BASE NGINX_H2C NGINX_CA NGINX_LOG NGINX_PID
}

# Stop the nginx started by start_nginx (its master, by PID; the master
# takes its worker down with it).
stop_nginx() {
	if [[ -n "${NGINX_PID:-}" ]]; then
		kill -TERM "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
		unset NGINX_PID
	fi
}

# Empty the access log (nginx appends at the end of the file it holds).
nginx_clear_log() {
	: >"$NGINX_LOG"
}

# Wait until the access log has at least N lines: nginx logs a request
# after sending it, possibly just after the client has read the answer.
nginx_wait_log() {
	local n="$1" i

	for ((i = 0; i < 100; i++)); do
		(($(wc -l <"$NGINX_LOG") >= n)) && return 0
		sleep 0.02
	done
	fail "nginx logged $(wc -l <"$NGINX_LOG") requests, expected $n"
}

# Print how many distinct connections the access log shows for URIs
# matching the regular expression $1 (default: every request).
nginx_connections() {
	awk -v re="${1:-.}" '$3 ~ re { print $1 }' "$NGINX_LOG" | sort -u |
		wc -l
}

# ---- identity: names and client certificates (tests/identity.bats) ---------
#
# start_nginx_identity starts another nginx, under
# $BATS_FILE_TMPDIR/nginx-id, with start_nginx's CA and files and two TLS
# servers whose certificate names both example.test and 127.0.0.1:
#   NGINX_PORT         anyone may connect
#   NGINX_CLIENT_PORT  the handshake needs a client certificate signed by
#                      the test CA; /client/ok.txt is served there
# It also makes client.pem and client.key (such a client certificate, key
# unencrypted) and client-enc.key (the same key encrypted with the password
# "secret"), and exports NGINX_MISSING, NGINX_DIR, NGINX_CA, NGINX_LOG,
# NGINX_PID, NGINX_PORT and NGINX_CLIENT_PORT.  stop_nginx stops it.

# Make the certificates above in $NGINX_DIR, after _nginx_certs (quietly).
_nginx_identity_certs() {
	local d="$NGINX_DIR"

	printf '%s\n' \
		'basicConstraints=CA:FALSE' \
		'keyUsage=critical,digitalSignature,keyEncipherment' \
		'extendedKeyUsage=serverAuth' \
		'subjectAltName=DNS:example.test,IP:127.0.0.1' >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
		-CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/server.ext" -out "$d/server.pem" >/dev/null 2>&1 ||
		return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=gather test client" \
		-keyout "$d/client.key" -out "$d/client.csr" >/dev/null 2>&1 ||
		return 1
	printf '%s\n' \
		'basicConstraints=CA:FALSE' \
		'keyUsage=critical,digitalSignature' \
		'extendedKeyUsage=clientAuth' >"$d/client.ext"
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" \
		-CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/client.ext" -out "$d/client.pem" >/dev/null 2>&1 ||
		return 1
	openssl pkey -in "$d/client.key" -aes256 -passout pass:secret \
		-out "$d/client-enc.key" >/dev/null 2>&1
}

# Write $NGINX_DIR/nginx.conf: TLS on port $1, TLS with a required client
# certificate on port $2.  nginx's own ssl_verify_client completes the
# handshake and answers 400; OpenSSL's VerifyMode Require ends the
# handshake itself, as a server that insists on a certificate does.
_nginx_identity_conf() {
	local d="$NGINX_DIR"

	{
		nginx_conf_main 1
		echo 'events { worker_connections 64; }'
		echo 'http {'
		nginx_conf_temp_paths
		cat <<CONF
	log_format gather '\$connection \$server_protocol \$request_uri \$status';
	access_log $d/access.log gather;
	default_type application/octet-stream;
	types { text/plain txt; }
	server {
		listen 127.0.0.1:$1 ssl;
		ssl_certificate $d/server.pem;
		ssl_certificate_key $d/server.key;
		root $d/www;
	}
	server {
		listen 127.0.0.1:$2 ssl;
		ssl_certificate $d/server.pem;
		ssl_certificate_key $d/server.key;
		ssl_client_certificate $d/ca.pem;
		ssl_verify_client on;
		ssl_conf_command VerifyMode Require;
		root $d/www;
	}
}
CONF
	} >"$d/nginx.conf"
}

# Start the nginx described above.
start_nginx_identity() {
	NGINX_MISSING=""
	if ! command -v nginx >/dev/null 2>&1; then
		NGINX_MISSING="nginx is not installed (apt-get install nginx-light)"
	elif ! command -v openssl >/dev/null 2>&1; then
		NGINX_MISSING="openssl is not installed (apt-get install openssl)"
	fi
	export NGINX_MISSING
	[[ -n "$NGINX_MISSING" ]] && return 0

	NGINX_DIR="$BATS_FILE_TMPDIR/nginx-id"
	mkdir -p "$NGINX_DIR/tmp" "$NGINX_DIR/www/client"
	if ! _nginx_certs || ! _nginx_identity_certs; then
		echo "openssl could not make the test certificates" >&2
		return 1
	fi
	printf 'small file\n' >"$NGINX_DIR/www/small.txt"
	printf 'client ok\n' >"$NGINX_DIR/www/client/ok.txt"
	nginx_launch _nginx_identity_conf _nginx_ready || return 1
	NGINX_CLIENT_PORT=$NGINX_PORT2
	NGINX_CA="$NGINX_DIR/ca.pem"
	NGINX_LOG="$NGINX_DIR/access.log"
	export NGINX_DIR NGINX_PORT NGINX_CLIENT_PORT NGINX_CA NGINX_LOG NGINX_PID
}
