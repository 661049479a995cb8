# shellcheck shell=bash
# k8s: a real Kubernetes control plane (no kubelet, no nodes) for the chart tests: etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler as plain processes on loopback,
# built from source with Go once (cached), TLS from an openssl-made PKI. Pods are created by the
# controllers and admitted (Pod Security) but stay Pending: nothing runs them.

K8S_VERSION=v1.35.4
# k8s.io/kubernetes requires its ./staging modules at v0.0.0: each is replaced by its published twin.
K8S_STAGING_VERSION=v0.35.4
# Kubernetes 1.35 supports etcd 3.5/3.6 (Debian's 3.4 is too old for it); its own etcd, not the etcd engine.
K8S_ETCD_VERSION=v3.6.16
K8S_BIN="$ENGINES_CACHE/k8s-$K8S_VERSION-etcd-$K8S_ETCD_VERSION/bin"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
K8S_D="$ENGINES_DIR/k8s"
K8S_API_PORT=26443
K8S_ETCD_CLIENT_PORT=22379
K8S_ETCD_PEER_PORT=22380
K8S_CM_PORT=20257
K8S_SCHEDULER_PORT=20259
K8S_SERVICE_CIDR=10.96.0.0/24
# the first address of the service range: the `kubernetes` Service (in the serving cert's SANs)
K8S_SERVICE_IP=10.96.0.1
K8S_PROCESSES=(etcd apiserver controller-manager scheduler)

k8s_env() {
  printf '%s\n' "K8S_KUBECONFIG=$K8S_D/admin.kubeconfig" "K8S_KUBECTL=$K8S_BIN/kubectl" \
    "K8S_API_SERVER=https://127.0.0.1:$K8S_API_PORT"
}

k8s_built() {
  local b
  for b in "${K8S_BINARIES[@]}"; do [[ -x $K8S_BIN/$b ]] || return 1; done
}

# The version the binaries report (kubectl version, /version): what hack/lib/version.sh stamps in.
k8s_version_ldflags() {
  local pkg minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
      "$pkg" "$K8S_VERSION" "$pkg" "$pkg" "$minor" "$pkg"
  done
}

# Build the five binaries into a temp dir, then move the directory into place (atomic: a
# half-finished build never looks installed). Two small main modules: Kubernetes and etcd have
# different dependency graphs (grpc, otel), so they are not resolved together.
k8s_install() {
  apt_ensure curl curl
  apt_ensure openssl openssl
  k8s_built && return 0
  command -v go >/dev/null 2>&1 ||
    die "Go is needed to build Kubernetes $K8S_VERSION and etcd $K8S_ETCD_VERSION from source"
  local tmp t0=$SECONDS gomod staging m
  mkdir -p "$ENGINES_CACHE"
  tmp=$(mktemp -d "$ENGINES_CACHE/.k8s-build.XXXXXX")
  chmod 755 "$tmp"
  mkdir -p "$tmp/kubernetes" "$tmp/etcd" "$tmp/bin"
  log "building Kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) and etcd $K8S_ETCD_VERSION from source (one-off, about 5 min on 2 cores, 2 GB RAM; cached in $ENGINES_CACHE)"
  # kubernetes' own go.mod names the staging modules it replaces with ./staging/src/k8s.io/<m>
  gomod=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>"$tmp/download.log" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p') && [[ -f $gomod ]] ||
    { tail -n 30 "$tmp/download.log" >&2; die "go mod download k8s.io/kubernetes@$K8S_VERSION failed"; }
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/k8s\.io/.*#\1#p' "$gomod" | sort -u)
  [[ $(wc -w <<<"$staging") -ge 25 ]] || die "found only $(wc -w <<<"$staging") staging replaces in $gomod"
  {
    echo "module platform-engines/kubernetes"
    echo
    sed -n 's/^go \([0-9.]*\)$/go \1/p' "$gomod"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    for m in $staging; do echo "replace $m => $m $K8S_STAGING_VERSION"; done
  } >"$tmp/kubernetes/go.mod"
  printf 'module platform-engines/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$K8S_ETCD_VERSION" >"$tmp/etcd/go.mod"
  # both builds at once: one downloads while the other compiles
  (cd "$tmp/kubernetes" && GOFLAGS=-mod=mod CGO_ENABLED=0 nice go build -trimpath \
    -ldflags "-s -w $(k8s_version_ldflags)" -o "$tmp/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl) >"$tmp/kubernetes.log" 2>&1 &
  local kpid=$!
  (cd "$tmp/etcd" && GOFLAGS=-mod=mod CGO_ENABLED=0 nice go build -trimpath -ldflags '-s -w' \
    -o "$tmp/bin/etcd" go.etcd.io/etcd/server/v3) >"$tmp/etcd.log" 2>&1 ||
    { wait "$kpid" || true; tail -n 30 "$tmp/etcd.log" >&2; die "building etcd $K8S_ETCD_VERSION failed (log: $tmp/etcd.log)"; }
  wait "$kpid" ||
    { tail -n 30 "$tmp/kubernetes.log" >&2; die "building Kubernetes $K8S_VERSION failed (log: $tmp/kubernetes.log)"; }
  for m in "${K8S_BINARIES[@]}"; do [[ -x $tmp/bin/$m ]] || die "the build left no $m in $tmp/bin"; done
  rm -rf "$(dirname "$K8S_BIN")"
  mv "$tmp" "$(dirname "$K8S_BIN")"
  log "Kubernetes $K8S_VERSION and etcd $K8S_ETCD_VERSION built in $((SECONDS - t0)) s: $K8S_BIN"
}

# Short-lived, loopback-only PKI (EC P-256): a CA, the apiserver's serving cert, one client cert
# per identity (admin in system:masters; controller-manager and scheduler by their RBAC user
# names) and the service-account signing key. Made once per state directory.
k8s_pki() {
  local p="$K8S_D/pki" name
  [[ -f $p/.complete ]] && return 0
  rm -rf "$p"
  mkdir -p "$p"
  chmod 700 "$p"
  (
    cd "$p"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
    # Usage: cert NAME SUBJECT EXTENSIONS
    cert() {
      key "$1"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
      printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
        -days 3650 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    key ca
    openssl req -x509 -new -key ca.key -subj "/CN=platform-engines-k8s-ca" -days 3650 -out ca.crt \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
    cert apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$K8S_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin "/O=system:masters/CN=platform-engines-admin" "extendedKeyUsage=clientAuth"
    cert controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
    cert scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
    key service-account
    openssl pkey -in service-account.key -pubout -out service-account.pub
  ) || die "making the control plane's PKI with openssl failed"
  for name in admin controller-manager scheduler; do
    cat >"$K8S_D/$name.kubeconfig" <<EOK
apiVersion: v1
kind: Config
clusters:
- name: platform-engines
  cluster:
    server: https://127.0.0.1:$K8S_API_PORT
    certificate-authority: $p/ca.crt
users:
- name: $name
  user:
    client-certificate: $p/$name.crt
    client-key: $p/$name.key
contexts:
- name: platform-engines
  context: {cluster: platform-engines, user: $name}
current-context: platform-engines
EOK
  done
  touch "$p/.complete"
}

k8s_curl() { curl -sf --max-time 3 --cacert "$K8S_D/pki/ca.crt" "$@"; }
k8s_etcd_ready() { curl -sf --max-time 3 "http://127.0.0.1:$K8S_ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'; }
k8s_apiserver_ready() { [[ $(k8s_curl "https://127.0.0.1:$K8S_API_PORT/readyz") == ok ]]; }
# controller-manager and scheduler serve /healthz to anyone (their default always-allow paths)
k8s_controller_manager_ready() { [[ $(curl -ksf --max-time 3 "https://127.0.0.1:$K8S_CM_PORT/healthz") == ok ]]; }
k8s_scheduler_ready() { [[ $(curl -ksf --max-time 3 "https://127.0.0.1:$K8S_SCHEDULER_PORT/healthz") == ok ]]; }
k8s_kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$K8S_D/admin.kubeconfig" --request-timeout=5s "$@"; }
# The controllers work: the service-account controller has made the default namespace's account.
k8s_controllers_working() { k8s_kubectl -n default get serviceaccount default -o name; }

k8s_process_ready() {
  case $1 in
    etcd) k8s_etcd_ready ;;
    apiserver) k8s_apiserver_ready ;;
    controller-manager) k8s_controller_manager_ready ;;
    scheduler) k8s_scheduler_ready ;;
  esac
}

k8s_all_ready() {
  local p
  for p in "${K8S_PROCESSES[@]}"; do
    pid_alive "$K8S_D/$p.pid" && k8s_process_ready "$p" >/dev/null 2>&1 || return 1
  done
  k8s_controllers_working >/dev/null 2>&1
}

# Start one process unless it is running. env -i: nothing from the caller (ETCD_*, KUBECONFIG) leaks in.
k8s_start() {
  local p=$1 pki="$K8S_D/pki" cmd
  pid_alive "$K8S_D/$p.pid" && return 0
  case $p in
    etcd)
      require_port_free "$K8S_ETCD_CLIENT_PORT" "the k8s engine's etcd"
      require_port_free "$K8S_ETCD_PEER_PORT" "the k8s engine's etcd (peer)"
      mkdir -p "$K8S_D/etcd-data"
      chmod 700 "$K8S_D/etcd-data"
      # a test store: no fsync (state is thrown away by `down` anyway)
      cmd=("$K8S_BIN/etcd" --name k8s --data-dir "$K8S_D/etcd-data"
        --listen-client-urls "http://127.0.0.1:$K8S_ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$K8S_ETCD_CLIENT_PORT"
        --listen-peer-urls "http://127.0.0.1:$K8S_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$K8S_ETCD_PEER_PORT"
        --initial-cluster "k8s=http://127.0.0.1:$K8S_ETCD_PEER_PORT" --initial-cluster-state new
        --unsafe-no-fsync --quota-backend-bytes 2147483648 --log-level warn) ;;
    apiserver)
      require_port_free "$K8S_API_PORT" "kube-apiserver"
      # endpoint-reconciler none: with a loopback advertise address the default reconciler fails
      cmd=("$K8S_BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$K8S_ETCD_CLIENT_PORT"
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$K8S_API_PORT"
        --endpoint-reconciler-type none --service-cluster-ip-range "$K8S_SERVICE_CIDR"
        --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key"
        --service-account-issuer https://kubernetes.default.svc.cluster.local
        --service-account-key-file "$pki/service-account.pub" --service-account-signing-key-file "$pki/service-account.key"
        --authorization-mode RBAC --profiling=false --cert-dir "$K8S_D/apiserver-certs") ;;
    controller-manager)
      # --authentication-skip-lookup: no front proxy here, so do not wait for its CA in the
      # extension-apiserver-authentication ConfigMap (it never comes: an error a second otherwise)
      require_port_free "$K8S_CM_PORT" "kube-controller-manager"
      # each controller under its own service account, as kubeadm runs it; HPAs synced every 5 s
      # instead of 15 s (a new HPA lifts its Deployment to minReplicas sooner)
      cmd=("$K8S_BIN/kube-controller-manager" --kubeconfig "$K8S_D/controller-manager.kubeconfig"
        --authentication-kubeconfig "$K8S_D/controller-manager.kubeconfig" --authorization-kubeconfig "$K8S_D/controller-manager.kubeconfig"
        --authentication-skip-lookup --client-ca-file "$pki/ca.crt"
        --bind-address 127.0.0.1 --secure-port "$K8S_CM_PORT" --cert-dir "$K8S_D/controller-manager-certs"
        --leader-elect=false --use-service-account-credentials
        --service-account-private-key-file "$pki/service-account.key" --root-ca-file "$pki/ca.crt"
        --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" --profiling=false
        --horizontal-pod-autoscaler-sync-period 5s) ;;
    scheduler)
      require_port_free "$K8S_SCHEDULER_PORT" "kube-scheduler"
      cmd=("$K8S_BIN/kube-scheduler" --kubeconfig "$K8S_D/scheduler.kubeconfig"
        --authentication-kubeconfig "$K8S_D/scheduler.kubeconfig" --authorization-kubeconfig "$K8S_D/scheduler.kubeconfig"
        --authentication-skip-lookup --client-ca-file "$pki/ca.crt"
        --bind-address 127.0.0.1 --secure-port "$K8S_SCHEDULER_PORT" --cert-dir "$K8S_D/scheduler-certs"
        --leader-elect=false --profiling=false) ;;
  esac
  start_bg "$K8S_D/$p.pid" "$K8S_D/$p.log" env -i PATH="$PATH" HOME="$K8S_D" "${cmd[@]}"
}

k8s_up() {
  k8s_all_ready && return 0
  k8s_install
  k8s_pki
  k8s_start etcd
  wait_for 60 "the k8s engine's etcd on 127.0.0.1:$K8S_ETCD_CLIENT_PORT" "$K8S_D/etcd.log" k8s_etcd_ready
  k8s_start apiserver
  wait_for 120 "kube-apiserver /readyz on 127.0.0.1:$K8S_API_PORT" "$K8S_D/apiserver.log" k8s_apiserver_ready
  k8s_start controller-manager
  k8s_start scheduler
  wait_for 120 "kube-controller-manager /healthz on 127.0.0.1:$K8S_CM_PORT" "$K8S_D/controller-manager.log" k8s_controller_manager_ready
  wait_for 120 "kube-scheduler /healthz on 127.0.0.1:$K8S_SCHEDULER_PORT" "$K8S_D/scheduler.log" k8s_scheduler_ready
  wait_for 120 "the controllers (service account default/default)" "$K8S_D/controller-manager.log" k8s_controllers_working
}

k8s_down() {
  local p files=()
  for p in "${K8S_PROCESSES[@]}"; do files+=("$K8S_D/$p.pid"); done
  stop_pids 0 "${files[@]}"
  rm -rf "$K8S_D"
}

k8s_status() {
  local p port
  for p in "${K8S_PROCESSES[@]}"; do
    case $p in
      etcd) port=$K8S_ETCD_CLIENT_PORT ;;
      apiserver) port=$K8S_API_PORT ;;
      controller-manager) port=$K8S_CM_PORT ;;
      scheduler) port=$K8S_SCHEDULER_PORT ;;
    esac
    process_status "k8s/$p" "$K8S_D/$p.pid" "127.0.0.1:$port" "$([[ $p == etcd ]] && echo "$K8S_ETCD_VERSION" || echo "$K8S_VERSION")" k8s_process_ready "$p"
  done
}
