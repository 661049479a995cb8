"""Schema preparation for scripts/kubeconform.sh (run by it; stdlib only, plus PyYAML for crd-schema).

  k8s-schemas WHEEL K8S_DIR OUT_DIR
      Extract kubernetes_validate/kubernetes-json-schema/K8S_DIR/*.json from the kubernetes-validate
      wheel into OUT_DIR, rewritten so they resolve offline: the top-level "$id"
      (https://kubernetes.io/api/...) is dropped and "/api/_definitions.json#..." refs become
      "_definitions.json#...", i.e. relative to the schema file (kubeconform loads refs by file URL;
      an https $id would make it fetch them over the network).

  crd-schema CRD_YAML OUT_DIR DEFINITIONS_JSON [VERSION...]
      Convert the openAPIV3Schema of each VERSION (default: the storage version) of the
      CustomResourceDefinition(s) in CRD_YAML into a strict JSON schema named the way kubeconform's
      template "{{ .ResourceKind }}{{ .KindSuffix }}.json" expects: <kind>-<first group label>-<version>.json.
      Strict: every object with "properties" gets additionalProperties: false (unless
      x-kubernetes-preserve-unknown-fields), "nullable" becomes a null type, apiVersion and kind are
      pinned by enum, and metadata is the Kubernetes ObjectMeta from DEFINITIONS_JSON (copied into
      "$defs", so the file stands alone). CEL rules (x-kubernetes-validations) cannot be checked.
"""
import json
import os
import sys
import zipfile

DEFS_FILE = "_definitions.json"
API_DEFS_REF = "/api/" + DEFS_FILE + "#"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def die(msg):
    print("[kubeconform] ERROR: " + msg, file=sys.stderr)
    sys.exit(1)


def walk_refs(node, fn):
    """Call fn(dict) on every dict whose "$ref" is a string (a property *named* $ref is a dict)."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            fn(node)
        for v in node.values():
            walk_refs(v, fn)
    elif isinstance(node, list):
        for v in node:
            walk_refs(v, fn)


def k8s_schemas(wheel, k8s_dir, out_dir):
    prefix = "kubernetes_validate/kubernetes-json-schema/%s/" % k8s_dir
    os.makedirs(out_dir, exist_ok=True)
    count = 0
    bad = []

    def rewrite(node):
        ref = node["$ref"]
        if ref.startswith(API_DEFS_REF):
            node["$ref"] = DEFS_FILE + "#" + ref[len(API_DEFS_REF):]
        elif not ref.startswith("#"):
            bad.append(ref)

    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if not name.startswith(prefix) or not name.endswith(".json") or "/" in name[len(prefix):]:
                continue
            doc = json.loads(z.read(name))
            if isinstance(doc, dict):
                doc.pop("$id", None)
            walk_refs(doc, rewrite)
            with open(os.path.join(out_dir, name[len(prefix):]), "w") as f:
                json.dump(doc, f, separators=(",", ":"))
            count += 1
    if bad:
        die("unexpected $ref targets in %s: %s" % (k8s_dir, sorted(set(bad))[:5]))
    if count < 100 or not os.path.exists(os.path.join(out_dir, DEFS_FILE)):
        die("%s holds no %s schemas (found %d files)" % (wheel, k8s_dir, count))
    # every rewritten ref must name an existing definition
    with open(os.path.join(out_dir, DEFS_FILE)) as f:
        defs = json.load(f)["$defs"]
    missing = set()
    for fname in os.listdir(out_dir):
        with open(os.path.join(out_dir, fname)) as f:
            doc = json.load(f)

        def check(node):
            frag = node["$ref"].split("#", 1)[1]
            if frag.startswith("/$defs/") and frag[len("/$defs/"):] not in defs:
                missing.add(frag)

        walk_refs(doc, check)
    if missing:
        die("refs to missing definitions: %s" % sorted(missing)[:5])
    print("[kubeconform] %d schemas of %s rewritten" % (count, k8s_dir), file=sys.stderr)


def strict(node, path, cel):
    """Make an openAPIV3Schema node strict in place (recursively)."""
    if not isinstance(node, dict):
        return
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"] if isinstance(node["type"], str) else node["type"] + ["null"]
    if "x-kubernetes-validations" in node:
        cel.append(path or "/")
    if "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        node["additionalProperties"] = False
    for key, child in node.get("properties", {}).items():
        strict(child, path + "/" + key, cel)
    if isinstance(node.get("additionalProperties"), dict):
        strict(node["additionalProperties"], path + "/*", cel)
    if isinstance(node.get("items"), dict):
        strict(node["items"], path + "/[]", cel)
    for key in ("anyOf", "oneOf", "allOf"):
        for child in node.get(key, []):
            strict(child, path, cel)
    if isinstance(node.get("not"), dict):
        strict(node["not"], path, cel)


def object_meta_defs(defs_file):
    with open(defs_file) as f:
        defs = json.load(f)["$defs"]
    out = {}
    todo = [OBJECT_META]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out[name] = defs[name]

        def follow(node):
            ref = node["$ref"]
            if not ref.startswith("#/$defs/"):
                die("unexpected ref %s in %s" % (ref, name))
            todo.append(ref[len("#/$defs/"):])

        walk_refs(defs[name], follow)
    return dict(sorted(out.items()))


def crd_schema(crd_yaml, out_dir, defs_file, versions):
    try:
        import yaml
    except ImportError:
        die("crd-schema needs PyYAML (python3 -m pip install pyyaml)")
    with open(crd_yaml) as f:
        crds = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "CustomResourceDefinition"]
    if not crds:
        die("no CustomResourceDefinition in " + crd_yaml)
    meta_defs = object_meta_defs(defs_file)
    written = 0
    for crd in crds:
        spec = crd["spec"]
        group, kind = spec["group"], spec["names"]["kind"]
        for v in spec["versions"]:
            if versions and v["name"] not in versions or not versions and not v.get("storage"):
                continue
            api_version = group + "/" + v["name"]
            schema = json.loads(json.dumps(v["schema"]["openAPIV3Schema"]))
            cel = []
            strict(schema, "", cel)
            props = schema.setdefault("properties", {})
            props["apiVersion"] = dict(props.get("apiVersion", {}), type="string", enum=[api_version])
            props["kind"] = dict(props.get("kind", {}), type="string", enum=[kind])
            props["metadata"] = {"$ref": "#/$defs/" + OBJECT_META}
            schema["additionalProperties"] = False
            doc = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "description": schema.pop("description", "%s %s" % (kind, api_version)),
                "x-kubernetes-group-version-kind": [{"group": group, "kind": kind, "version": v["name"]}],
            }
            doc.update(schema)
            doc["$defs"] = meta_defs
            name = "%s-%s-%s.json" % (kind.lower(), group.split(".")[0].lower(), v["name"].lower())
            with open(os.path.join(out_dir, name), "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
            written += 1
            print("[kubeconform] %s %s -> %s" % (kind, api_version, os.path.join(out_dir, name)), file=sys.stderr)
            if cel:
                print("[kubeconform] warning: CEL rules not checked by the JSON schema at %s" % cel, file=sys.stderr)
    if not written:
        die("no matching CRD version in %s (asked for: %s)" % (crd_yaml, versions or "storage version"))


def main(argv):
    if len(argv) == 4 and argv[0] == "k8s-schemas":
        k8s_schemas(*argv[1:])
    elif len(argv) >= 4 and argv[0] == "crd-schema":
        crd_schema(argv[1], argv[2], argv[3], argv[4:])
    else:
        die("usage: %s k8s-schemas WHEEL K8S_DIR OUT_DIR | crd-schema CRD_YAML OUT_DIR DEFINITIONS_JSON [VERSION...]"
            % os.path.basename(sys.argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
