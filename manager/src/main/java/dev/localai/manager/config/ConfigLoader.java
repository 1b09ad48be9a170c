package dev.localai.manager.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads {@code models.json} in either form:
 * <ul>
 *   <li>flat (version 1, the design's form): a top-level object whose values are model entries;</li>
 *   <li>structured ({@code "version": 2}): {@code server}, {@code auth}, {@code docker}, {@code gpu},
 *       {@code gaming_mode}, {@code defaults}, {@code models}, {@code remotes}.</li>
 * </ul>
 * Every problem is reported as a {@link ConfigException} naming the field's dotted path.
 * Strings may reference environment variables as {@code ${env:NAME}}.
 */
public final class ConfigLoader {
    static final Pattern CONTAINER_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    private static final Pattern ENV_REF = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** Upper bound of every duration in the file: 30 days (beyond it, arithmetic on deadlines could overflow). */
    static final double MAX_SECONDS = 30 * 24 * 3600;

    private static final Set<String> MODEL_FIELDS = Set.of(
            "container", "port", "url", "host", "type", "keep_warm", "aliases", "unlisted", "upstream_model",
            "vram_mb", "vram_gb", "gpu", "exclusive_groups", "priority", "idle_timeout_s", "start_timeout_s",
            "stop_timeout_s", "health_path", "health_expect", "max_concurrency", "max_queue", "queue_timeout_s",
            "liveness", "restart", "fallback", "description", "name", "gaming_strategy");
    private static final Set<String> DEFAULT_FIELDS = Set.of(
            "host", "health_path", "health_expect", "start_timeout_s", "stop_timeout_s", "idle_timeout_s",
            "max_concurrency", "max_queue", "queue_timeout_s", "liveness", "restart", "gpu");
    private static final Set<String> TOP_FIELDS_V2 = Set.of(
            "version", "server", "auth", "docker", "gpu", "gaming_mode", "defaults", "models", "remotes");

    private final Function<String, String> env;
    private final List<String> warnings = new ArrayList<>();

    public ConfigLoader() {
        this(System::getenv);
    }

    public ConfigLoader(Function<String, String> env) {
        this.env = env;
    }

    public static ManagerConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read " + file + ": " + e.getMessage());
        }
        return new ConfigLoader().parse(text);
    }

    public ManagerConfig parse(String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            if (e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field")
                    && e.getProcessor() instanceof com.fasterxml.jackson.core.JsonParser parser) {
                throw new ConfigException(duplicatePath(parser, e.getOriginalMessage()), "is defined twice (duplicate key)");
            }
            throw new ConfigException("", "not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() : ""));
        }
        if (root == null || !root.isObject()) throw new ConfigException("", "the top level must be a JSON object");
        JsonNode version = root.get("version");
        if (version != null && !version.isObject()) {
            if (!version.isInt() || version.asInt() != 2) throw new ConfigException("version", "only version 2 is supported (omit it for the flat form)");
            return parseV2((ObjectNode) root);
        }
        return parseV1((ObjectNode) root);
    }

    /** The dotted path of a duplicate key, from the parser's context when Jackson refused it. */
    private static String duplicatePath(com.fasterxml.jackson.core.JsonParser parser, String message) {
        String name = message.replaceAll("^Duplicate field '(.*)'$", "$1");
        List<String> parts = new ArrayList<>();
        for (var c = parser.getParsingContext().getParent(); c != null && !c.inRoot(); c = c.getParent())
            parts.add(0, c.inArray() ? "[" + c.getCurrentIndex() + "]" : c.getCurrentName());
        parts.add(name);
        return String.join(".", parts).replace(".[", "[");
    }

    // ---------------------------------------------------------------- v1

    private ManagerConfig parseV1(ObjectNode root) {
        if (root.isEmpty()) throw new ConfigException("", "no models defined");
        Defaults d = Defaults.builtIn();
        Map<String, ModelSpec> models = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            models.put(e.getKey(), model(e.getKey(), e.getKey(), e.getValue(), d, false));
        }
        ManagerConfig.Gpu gpu = new ManagerConfig.Gpu(0, 1024, "nvidia-smi");
        return finish(1, defaultServer(), new ManagerConfig.Auth(List.of(), List.of()), defaultDocker(), gpu,
                defaultGaming(), models, new LinkedHashMap<>());
    }

    // ---------------------------------------------------------------- v2

    private ManagerConfig parseV2(ObjectNode root) {
        strictFields(root, "", TOP_FIELDS_V2);
        ManagerConfig.Server server = defaultServer();
        JsonNode s = root.get("server");
        if (s != null) {
            obj(s, "server");
            strictFields(s, "server", Set.of("listen", "max_request_body_mb", "allow_insecure", "upstream_connect_timeout_s",
                    "upstream_response_timeout_s", "allowed_hosts", "allowed_origins"));
            server = new ManagerConfig.Server(
                    str(s, "server.listen", "listen", server.listen()),
                    (long) (num(s, "server.max_request_body_mb", "max_request_body_mb", 64, 0.001, 4096) * 1024 * 1024),
                    bool(s, "server.allow_insecure", "allow_insecure", false),
                    secs(s, "server.upstream_connect_timeout_s", "upstream_connect_timeout_s", 5),
                    secs(s, "server.upstream_response_timeout_s", "upstream_response_timeout_s", 600),
                    s.has("allowed_hosts") ? strings(s, "server.allowed_hosts", "allowed_hosts") : server.allowedHosts(),
                    s.has("allowed_origins") ? origins(strings(s, "server.allowed_origins", "allowed_origins"))
                            : server.allowedOrigins());
            parseListen(server.listen(), "server.listen");
        }
        ManagerConfig.Auth auth = new ManagerConfig.Auth(List.of(), List.of());
        JsonNode a = root.get("auth");
        if (a != null) {
            obj(a, "auth");
            strictFields(a, "auth", Set.of("api_keys", "admin_keys", "open_paths"));
            auth = new ManagerConfig.Auth(keys(a, "auth.api_keys", "api_keys"), keys(a, "auth.admin_keys", "admin_keys"));
        }
        ManagerConfig.Docker docker = defaultDocker();
        JsonNode dk = root.get("docker");
        if (dk != null) {
            obj(dk, "docker");
            strictFields(dk, "docker", Set.of("binary", "command_timeout_s", "env"));
            Map<String, String> envMap = new LinkedHashMap<>();
            JsonNode en = dk.get("env");
            if (en != null) {
                obj(en, "docker.env");
                en.properties().forEach(e -> envMap.put(e.getKey(), text(e.getValue(), "docker.env." + e.getKey())));
            }
            docker = new ManagerConfig.Docker(str(dk, "docker.binary", "binary", docker.binary()),
                    secs(dk, "docker.command_timeout_s", "command_timeout_s", 30), envMap);
        }
        ManagerConfig.Gpu gpu = new ManagerConfig.Gpu(0, 1024, "nvidia-smi");
        JsonNode g = root.get("gpu");
        if (g != null) {
            obj(g, "gpu");
            strictFields(g, "gpu", Set.of("vram_budget_mb", "reserve_mb", "probe"));
            long budget = 0;
            JsonNode b = g.get("vram_budget_mb");
            if (b != null) {
                if (b.isTextual() && b.asText().equals("auto")) budget = -1;
                else if (b.isNumber() && b.asLong() >= 0) budget = b.asLong();
                else throw new ConfigException("gpu.vram_budget_mb", "must be a non-negative number of MiB or \"auto\"");
            }
            String probe = str(g, "gpu.probe", "probe", "nvidia-smi");
            gpu = new ManagerConfig.Gpu(budget, (long) num(g, "gpu.reserve_mb", "reserve_mb", 1024, 0, 1e7), probe);
        }
        ManagerConfig.Gaming gaming = defaultGaming();
        JsonNode gm = root.get("gaming_mode");
        if (gm != null) {
            obj(gm, "gaming_mode");
            strictFields(gm, "gaming_mode", Set.of("state_file", "drain_timeout_s", "vram_free_target_mb", "vram_wait_s", "strategy"));
            String strategy = str(gm, "gaming_mode.strategy", "strategy", "stop");
            if (!strategy.equals("stop")) throw new ConfigException("gaming_mode.strategy", "only \"stop\" is supported");
            String sf = str(gm, "gaming_mode.state_file", "state_file", null);
            gaming = new ManagerConfig.Gaming(sf == null ? null : Path.of(sf),
                    secs(gm, "gaming_mode.drain_timeout_s", "drain_timeout_s", 15),
                    (long) num(gm, "gaming_mode.vram_free_target_mb", "vram_free_target_mb", 1024, 0, 1e7),
                    secs(gm, "gaming_mode.vram_wait_s", "vram_wait_s", 10));
        }
        Defaults d = Defaults.builtIn();
        JsonNode df = root.get("defaults");
        if (df != null) {
            obj(df, "defaults");
            strictFields(df, "defaults", DEFAULT_FIELDS);
            d = d.override(this, df);
        }
        Map<String, ManagerConfig.Remote> remotes = new LinkedHashMap<>();
        JsonNode rs = root.get("remotes");
        if (rs != null) {
            obj(rs, "remotes");
            for (Map.Entry<String, JsonNode> e : rs.properties()) {
                String p = "remotes." + e.getKey();
                obj(e.getValue(), p);
                strictFields(e.getValue(), p, Set.of("url", "health_path", "probe_interval_s", "failure_threshold"));
                String url = str(e.getValue(), p + ".url", "url", null);
                if (url == null) throw new ConfigException(p + ".url", "is required");
                remotes.put(e.getKey(), new ManagerConfig.Remote(e.getKey(), httpUri(url, p + ".url"),
                        path(str(e.getValue(), p + ".health_path", "health_path", "/health"), p + ".health_path"),
                        secs(e.getValue(), p + ".probe_interval_s", "probe_interval_s", 10),
                        (int) num(e.getValue(), p + ".failure_threshold", "failure_threshold", 2, 1, 1000)));
            }
        }
        JsonNode ms = root.get("models");
        if (ms == null) throw new ConfigException("models", "is required");
        obj(ms, "models");
        if (ms.isEmpty()) throw new ConfigException("models", "no models defined");
        Map<String, ModelSpec> models = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : ms.properties()) {
            models.put(e.getKey(), model(e.getKey(), "models." + e.getKey(), e.getValue(), d, true));
        }
        return finish(2, server, auth, docker, gpu, gaming, models, remotes);
    }

    // ---------------------------------------------------------------- models

    private ModelSpec model(String id, String p, JsonNode n, Defaults d, boolean strict) {
        if (id.isBlank()) throw new ConfigException(p, "model ID must not be empty");
        if (!n.isObject()) throw new ConfigException(p, "must be an object with at least \"container\" and \"port\"");
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!MODEL_FIELDS.contains(f)) {
                if (strict) throw new ConfigException(p + "." + f, "unknown field (known: " + new java.util.TreeSet<>(MODEL_FIELDS) + ")");
                warnings.add(p + "." + f + ": unknown field ignored");
            }
        }
        String container = str(n, p + ".container", "container", null);
        if (container == null) throw new ConfigException(p + ".container", "is required");
        if (!CONTAINER_NAME.matcher(container).matches()) throw new ConfigException(p + ".container", "\"" + container + "\" is not a valid container name");
        JsonNode portNode = n.get("port");
        String url = str(n, p + ".url", "url", null);
        int port = 0;
        if (portNode != null && url != null)
            throw new ConfigException(p + ".url", "give either \"url\" or \"port\", not both");
        if (portNode != null) {
            if (!portNode.canConvertToInt() || !portNode.isIntegralNumber() || portNode.asInt() < 1 || portNode.asInt() > 65535)
                throw new ConfigException(p + ".port", "must be an integer between 1 and 65535");
            port = portNode.asInt();
        } else if (url == null) {
            throw new ConfigException(p + ".port", "is required (or give \"url\")");
        }
        String host = str(n, p + ".host", "host", d.host);
        URI upstream = url != null ? httpUri(url, p + ".url") : httpUri("http://" + hostForUri(host) + ":" + port, p + ".host");
        String typeText = str(n, p + ".type", "type", "text");
        ModelType type = ModelType.parse(typeText);
        if (type == null) throw new ConfigException(p + ".type", "unknown type \"" + typeText + "\" (text, tts, stt, image, embedding)");
        long vram = (long) num(n, p + ".vram_mb", "vram_mb", 0, 0, 1e7);
        if (n.has("vram_gb")) {
            if (n.has("vram_mb")) throw new ConfigException(p + ".vram_gb", "give either vram_mb or vram_gb, not both");
            vram = Math.round(num(n, p + ".vram_gb", "vram_gb", 0, 0, 1e4) * 1024);
        }
        ModelSpec.Liveness live = d.liveness;
        JsonNode ln = n.get("liveness");
        if (ln != null) live = liveness(ln, p + ".liveness", live);
        ModelSpec.Restart restart = d.restart;
        JsonNode rn = n.get("restart");
        if (rn != null) restart = restart(rn, p + ".restart", restart);
        String gs = str(n, p + ".gaming_strategy", "gaming_strategy", "stop");
        if (!gs.equals("stop")) throw new ConfigException(p + ".gaming_strategy", "only \"stop\" is supported");
        int expect = (int) num(n, p + ".health_expect", "health_expect", d.healthExpect, 100, 599);
        return new ModelSpec(id, container, port, upstream, type,
                bool(n, p + ".keep_warm", "keep_warm", false),
                strings(n, p + ".aliases", "aliases"),
                bool(n, p + ".unlisted", "unlisted", false),
                str(n, p + ".upstream_model", "upstream_model", null),
                vram,
                bool(n, p + ".gpu", "gpu", d.gpu),
                strings(n, p + ".exclusive_groups", "exclusive_groups"),
                (int) num(n, p + ".priority", "priority", 0, -1e6, 1e6),
                secsAllowZero(n, p + ".idle_timeout_s", "idle_timeout_s", d.idleTimeout),
                secs(n, p + ".start_timeout_s", "start_timeout_s", d.startTimeout),
                secs(n, p + ".stop_timeout_s", "stop_timeout_s", d.stopTimeout),
                path(str(n, p + ".health_path", "health_path", d.healthPath), p + ".health_path"),
                expect,
                (int) num(n, p + ".max_concurrency", "max_concurrency", d.maxConcurrency, 1, 100000),
                (int) num(n, p + ".max_queue", "max_queue", d.maxQueue, 0, 100000),
                secs(n, p + ".queue_timeout_s", "queue_timeout_s", d.queueTimeout),
                live, restart,
                strings(n, p + ".fallback", "fallback"));
    }

    private ModelSpec.Liveness liveness(JsonNode ln, String p, ModelSpec.Liveness base) {
        obj(ln, p);
        strictFields(ln, p, Set.of("interval_s", "timeout_s", "failure_threshold"));
        return new ModelSpec.Liveness(
                secsAllowZero(ln, p + ".interval_s", "interval_s", base.interval()),
                secs(ln, p + ".timeout_s", "timeout_s", base.timeout()),
                (int) num(ln, p + ".failure_threshold", "failure_threshold", base.failureThreshold(), 1, 1000));
    }

    private ModelSpec.Restart restart(JsonNode rn, String p, ModelSpec.Restart base) {
        obj(rn, p);
        strictFields(rn, p, Set.of("on_failure", "backoff_initial_s", "backoff_max_s"));
        ModelSpec.Restart r = new ModelSpec.Restart(bool(rn, p + ".on_failure", "on_failure", base.onFailure()),
                secs(rn, p + ".backoff_initial_s", "backoff_initial_s", base.backoffInitial()),
                secs(rn, p + ".backoff_max_s", "backoff_max_s", base.backoffMax()));
        if (r.backoffMax().compareTo(r.backoffInitial()) < 0) throw new ConfigException(p + ".backoff_max_s", "must be >= backoff_initial_s");
        return r;
    }

    // ---------------------------------------------------------------- cross checks

    private ManagerConfig finish(int version, ManagerConfig.Server server, ManagerConfig.Auth auth, ManagerConfig.Docker docker,
                                 ManagerConfig.Gpu gpu, ManagerConfig.Gaming gaming, Map<String, ModelSpec> models,
                                 Map<String, ManagerConfig.Remote> remotes) {
        String prefix = version == 1 ? "" : "models.";
        Map<String, String> names = new HashMap<>();
        Map<Integer, String> ports = new HashMap<>();
        Map<String, String> containers = new HashMap<>();
        for (ModelSpec m : models.values()) names.put(m.id(), m.id());
        for (ModelSpec m : models.values()) {
            String p = prefix + m.id();
            for (int i = 0; i < m.aliases().size(); i++) {
                String a = m.aliases().get(i);
                String prev = names.putIfAbsent(a, m.id());
                if (prev != null) throw new ConfigException(p + ".aliases[" + i + "]", "\"" + a + "\" is already used by model \"" + prev + "\"");
            }
            if (m.port() != 0) {
                String prev = ports.putIfAbsent(m.port(), m.id());
                if (prev != null) throw new ConfigException(p + ".port", m.port() + " is already used by model \"" + prev + "\"");
            }
            String prevC = containers.putIfAbsent(m.container(), m.id());
            if (prevC != null) throw new ConfigException(p + ".container", "\"" + m.container() + "\" is already used by model \"" + prevC + "\"");
        }
        for (ModelSpec m : models.values()) {
            String p = prefix + m.id();
            for (int i = 0; i < m.fallback().size(); i++) {
                String f = m.fallback().get(i);
                String fp = p + ".fallback[" + i + "]";
                if (f.startsWith("http://") || f.startsWith("https://")) {
                    URI u = httpUri(f, fp);
                    remotes.putIfAbsent(f, new ManagerConfig.Remote(f, u, "/health", Duration.ofSeconds(10), 2));
                } else if (remotes.containsKey(f)) {
                    // named remote
                } else {
                    String target = names.get(f);
                    if (target == null) throw new ConfigException(fp, "\"" + f + "\" is neither a model, an alias, a remote nor an http(s) URL");
                    if (target.equals(m.id())) throw new ConfigException(fp, "a model cannot fall back to itself");
                }
            }
        }
        List<ModelSpec> warm = models.values().stream().filter(ModelSpec::keepWarm).filter(ModelSpec::gpu).toList();
        for (int i = 0; i < warm.size(); i++) {
            for (int j = i + 1; j < warm.size(); j++) {
                if (warm.get(i).sharesGroupWith(warm.get(j)))
                    throw new ConfigException(prefix + warm.get(j).id() + ".exclusive_groups",
                            "keep-warm models \"" + warm.get(i).id() + "\" and \"" + warm.get(j).id() + "\" share an exclusive group and can never both be warm");
            }
        }
        if (gpu.vramBudgetMb() > 0) {
            long sum = warm.stream().mapToLong(ModelSpec::vramMb).sum();
            if (sum > gpu.vramBudgetMb()) throw new ConfigException("gpu.vram_budget_mb",
                    "keep-warm models need " + sum + " MiB, more than the budget of " + gpu.vramBudgetMb() + " MiB");
            for (ModelSpec m : models.values()) {
                if (m.gpu() && m.vramMb() > gpu.vramBudgetMb())
                    throw new ConfigException(prefix + m.id() + ".vram_mb", m.vramMb() + " MiB exceeds the budget of " + gpu.vramBudgetMb() + " MiB");
            }
        }
        return new ManagerConfig(version, server, auth, docker, gpu, gaming, models, remotes, warnings);
    }

    // ---------------------------------------------------------------- helpers

    private ManagerConfig.Server defaultServer() {
        return new ManagerConfig.Server("127.0.0.1:8000", 64L * 1024 * 1024, false, Duration.ofSeconds(5), Duration.ofSeconds(600),
                envList("MANAGER_ALLOWED_HOSTS"), envList("MANAGER_ALLOWED_ORIGINS"));
    }

    /** A comma-separated environment variable as a list (empty when unset), split as tts-server splits its own. */
    private List<String> envList(String name) {
        return dev.localai.tts.api.http.CrossSiteGuard.splitList(env.apply(name));
    }

    private static ManagerConfig.Docker defaultDocker() {
        return new ManagerConfig.Docker("docker", Duration.ofSeconds(30), Map.of());
    }

    private static ManagerConfig.Gaming defaultGaming() {
        return new ManagerConfig.Gaming(null, Duration.ofSeconds(15), 1024, Duration.ofSeconds(10));
    }

    /** Parses {@code host:port} (IPv6 in brackets); returns {host, port}. */
    public static String[] parseListen(String listen, String field) {
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) throw new ConfigException(field, "\"" + listen + "\" must be host:port");
        String host = listen.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        try {
            int port = Integer.parseInt(listen.substring(colon + 1));
            if (port < 0 || port > 65535) throw new NumberFormatException();
            return new String[] {host, Integer.toString(port)};
        } catch (NumberFormatException e) {
            throw new ConfigException(field, "\"" + listen + "\" has an invalid port");
        }
    }

    private static String hostForUri(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static URI httpUri(String s, String field) {
        try {
            URI u = new URI(s);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null)
                throw new ConfigException(field, "\"" + s + "\" must be an http(s) URL with a host");
            String str = u.toString();
            return URI.create(str.endsWith("/") ? str.substring(0, str.length() - 1) : str);
        } catch (java.net.URISyntaxException e) {
            throw new ConfigException(field, "\"" + s + "\" is not a valid URL");
        }
    }

    private static String path(String s, String field) {
        if (!s.startsWith("/")) throw new ConfigException(field, "must start with /");
        return s;
    }

    private static void obj(JsonNode n, String field) {
        if (!n.isObject()) throw new ConfigException(field, "must be an object");
    }

    private static void strictFields(JsonNode n, String p, Set<String> known) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) throw new ConfigException(p.isEmpty() ? f : p + "." + f, "unknown field");
        }
    }

    String text(JsonNode v, String field) {
        if (!v.isTextual()) throw new ConfigException(field, "must be a string");
        return substitute(v.asText(), field);
    }

    String substitute(String s, String field) {
        Matcher m = ENV_REF.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String val = env.apply(m.group(1));
            if (val == null) throw new ConfigException(field, "environment variable " + m.group(1) + " is not set");
            m.appendReplacement(sb, Matcher.quoteReplacement(val));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    String str(JsonNode n, String field, String key, String def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        String s = text(v, field);
        if (s.isBlank()) throw new ConfigException(field, "must not be empty");
        return s;
    }

    static boolean bool(JsonNode n, String field, String key, boolean def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isBoolean()) throw new ConfigException(field, "must be true or false");
        return v.asBoolean();
    }

    static double num(JsonNode n, String field, String key, double def, double min, double max) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber()) throw new ConfigException(field, "must be a number");
        double d = v.asDouble();
        if (d < min || d > max) throw new ConfigException(field, "must be between " + fmt(min) + " and " + fmt(max));
        return d;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    static Duration secs(JsonNode n, String field, String key, double def) {
        return secs(n, field, key, Duration.ofMillis((long) (def * 1000)));
    }

    static Duration secs(JsonNode n, String field, String key, Duration def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber() || v.asDouble() <= 0) throw new ConfigException(field, "must be a positive number of seconds");
        if (v.asDouble() > MAX_SECONDS) throw new ConfigException(field, "must be at most " + fmt(MAX_SECONDS) + " seconds (30 days)");
        return Duration.ofMillis(Math.max(1, Math.round(v.asDouble() * 1000)));
    }

    static Duration secsAllowZero(JsonNode n, String field, String key, Duration def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber() || v.asDouble() < 0) throw new ConfigException(field, "must be a number of seconds >= 0 (0 = never)");
        if (v.asDouble() > MAX_SECONDS) throw new ConfigException(field, "must be at most " + fmt(MAX_SECONDS) + " seconds (30 days)");
        return Duration.ofMillis(Math.round(v.asDouble() * 1000));
    }

    List<String> strings(JsonNode n, String field, String key) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw new ConfigException(field, "must be an array of strings");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            String s = text(v.get(i), field + "[" + i + "]");
            if (s.isBlank()) throw new ConfigException(field + "[" + i + "]", "must not be empty");
            if (out.contains(s)) throw new ConfigException(field + "[" + i + "]", "\"" + s + "\" is listed twice");
            out.add(s);
        }
        return out;
    }

    /** Origins checked by the cross-site guard's own parser (scheme://host[:port], or *). */
    private static List<String> origins(List<String> list) {
        try {
            dev.localai.tts.api.http.CrossSiteGuard.of(null, List.of(), list, List.of());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("server.allowed_origins", e.getMessage());
        }
        return list;
    }

    private List<String> keys(JsonNode n, String field, String key) {
        List<String> raw = strings(n, field, key);
        return raw;
    }

    /** Model defaults (v2 {@code defaults} block overrides them). */
    record Defaults(String host, String healthPath, int healthExpect, Duration startTimeout, Duration stopTimeout,
                    Duration idleTimeout, int maxConcurrency, int maxQueue, Duration queueTimeout,
                    ModelSpec.Liveness liveness, ModelSpec.Restart restart, boolean gpu) {
        static Defaults builtIn() {
            return new Defaults("127.0.0.1", "/health", 200, Duration.ofSeconds(300), Duration.ofSeconds(20),
                    Duration.ofSeconds(600), 16, 128, Duration.ofSeconds(300),
                    new ModelSpec.Liveness(Duration.ofSeconds(15), Duration.ofSeconds(5), 3),
                    new ModelSpec.Restart(true, Duration.ofSeconds(10), Duration.ofSeconds(300)), true);
        }

        Defaults override(ConfigLoader l, JsonNode df) {
            String p = "defaults";
            return new Defaults(
                    l.str(df, p + ".host", "host", host),
                    path(l.str(df, p + ".health_path", "health_path", healthPath), p + ".health_path"),
                    (int) num(df, p + ".health_expect", "health_expect", healthExpect, 100, 599),
                    secs(df, p + ".start_timeout_s", "start_timeout_s", startTimeout),
                    secs(df, p + ".stop_timeout_s", "stop_timeout_s", stopTimeout),
                    secsAllowZero(df, p + ".idle_timeout_s", "idle_timeout_s", idleTimeout),
                    (int) num(df, p + ".max_concurrency", "max_concurrency", maxConcurrency, 1, 100000),
                    (int) num(df, p + ".max_queue", "max_queue", maxQueue, 0, 100000),
                    secs(df, p + ".queue_timeout_s", "queue_timeout_s", queueTimeout),
                    df.has("liveness") ? l.liveness(df.get("liveness"), p + ".liveness", liveness) : liveness,
                    df.has("restart") ? l.restart(df.get("restart"), p + ".restart", restart) : restart,
                    bool(df, p + ".gpu", "gpu", gpu));
        }
    }
}
