package dev.localai.tts.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.http.CrossSiteGuard.Route;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CrossSiteGuardTest {
    private static final List<String> EXPOSED = List.of("x-request-id", "Retry-After");

    /** The defaults of both services: loopback, no extra hosts, no origins. */
    private static final CrossSiteGuard DEFAULTS = CrossSiteGuard.of("127.0.0.1", List.of(), List.of(), EXPOSED);

    private static Function<String, String> headers(String... kv) {
        Map<String, String> m = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m::get;
    }

    private static String code(Optional<ApiException> e) {
        assertThat(e).isPresent();
        return e.get().error().code();
    }

    @Nested
    class HostHeader {
        @ParameterizedTest
        @ValueSource(strings = {"127.0.0.1", "127.0.0.1:8006", "10.0.0.5:8000", "192.168.1.20", "0.0.0.0:1",
                "[::1]", "[::1]:8006", "[fe80::1]:80", "[::ffff:127.0.0.1]:8006", "localhost", "LOCALHOST:8006",
                "localhost.", "tts.localhost:8006", "a.b.localhost"})
        void ipLiteralsAndLocalhostAreAllowed(String host) {
            assertThat(DEFAULTS.check("GET", headers("Host", host), Route.PLAIN)).isEmpty();
        }

        @ParameterizedTest
        @ValueSource(strings = {"attacker.example", "attacker.example:8006", "localhost.attacker.example",
                "127.0.0.1.attacker.example", "127.1", "0x7f.0.0.1", "256.0.0.1", "::1", "[::1", "[::1]x",
                "localhost:abc", "localhost:", "evil-localhost", "xn--localhost"})
        void otherNamesAreRefusedWithHostNotAllowed(String host) {
            Optional<ApiException> e = DEFAULTS.check("GET", headers("Host", host), Route.PLAIN);
            assertThat(code(e)).isEqualTo(CrossSiteGuard.HOST_NOT_ALLOWED);
            assertThat(e.get().status()).isEqualTo(403);
            assertThat(e.get().error().type()).isEqualTo("invalid_request_error");
        }

        @Test
        void theHostIsCheckedOnEveryMethodAndRoute() {
            for (String m : List.of("GET", "HEAD", "OPTIONS", "POST", "DELETE")) {
                for (Route r : Route.values()) {
                    assertThat(code(DEFAULTS.check(m, headers("Host", "attacker.example"), r)))
                            .isEqualTo(CrossSiteGuard.HOST_NOT_ALLOWED);
                }
            }
        }

        @Test
        void anAbsentHostPasses() {
            // HTTP/1.0 clients send none; a browser (the rebinding vector) always does
            assertThat(DEFAULTS.check("GET", headers(), Route.PLAIN)).isEmpty();
        }

        @Test
        void theListenHostAndConfiguredNamesAreAllowed() {
            CrossSiteGuard g = CrossSiteGuard.of("gaming-pc.lan", List.of("tts.home.arpa:8443", "Dashboard.Lan",
                    "*.internal"), List.of(), EXPOSED);
            assertThat(g.hostAllowed("gaming-pc.lan:8006")).isTrue();
            assertThat(g.hostAllowed("GAMING-PC.LAN")).isTrue();
            assertThat(g.hostAllowed("tts.home.arpa")).isTrue();
            assertThat(g.hostAllowed("dashboard.lan:80")).isTrue();
            assertThat(g.hostAllowed("a.internal")).isTrue();
            assertThat(g.hostAllowed("x.y.internal:9")).isTrue();
            assertThat(g.hostAllowed("internal")).isFalse();
            assertThat(g.hostAllowed("evilinternal")).isFalse();
            assertThat(g.hostAllowed("home.arpa")).isFalse();
            assertThat(g.hostAllowed("attacker.example")).isFalse();
        }

        @Test
        void aStarAllowsAnyHost() {
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of("*"), List.of(), EXPOSED);
            assertThat(g.hostAllowed("attacker.example:1234")).isTrue();
            assertThat(g.check("GET", headers("Host", "whatever"), Route.PLAIN)).isEmpty();
        }

        @Test
        void theMessageQuotesTheHostSafely() {
            String evil = "evil\u0001.example" + "x".repeat(300);
            Optional<ApiException> e = DEFAULTS.check("GET", headers("Host", evil), Route.PLAIN);
            assertThat(e.get().error().message()).contains("evil?.example").doesNotContain("\u0001")
                    .contains("allowed_hosts").hasSizeLessThan(300);
        }
    }

    @Nested
    class OriginHeader {
        @ParameterizedTest
        @ValueSource(strings = {"POST", "DELETE", "PUT", "PATCH", "post", "PROPFIND"})
        void aForeignOriginMayNotChangeState(String method) {
            Optional<ApiException> e = DEFAULTS.check(method,
                    headers("Host", "127.0.0.1:8006", "Origin", "https://evil.example"), Route.PLAIN);
            assertThat(code(e)).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
            assertThat(e.get().status()).isEqualTo(403);
            assertThat(e.get().error().message()).contains("https://evil.example").contains("allowed_origins");
        }

        @ParameterizedTest
        @ValueSource(strings = {"GET", "HEAD", "OPTIONS"})
        void aForeignOriginMayRead(String method) {
            assertThat(DEFAULTS.check(method, headers("Host", "127.0.0.1:8006", "Origin", "https://evil.example"),
                    Route.PLAIN)).isEmpty();
        }

        @Test
        void aStateChangingGetRouteIsGuardedLikeAPost() {
            assertThat(code(DEFAULTS.check("GET", headers("Host", "127.0.0.1:8000", "Origin", "http://evil.example"),
                    Route.STATE_CHANGING_GET))).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
            assertThat(code(DEFAULTS.check("GET", headers("Host", "127.0.0.1:8000", "Sec-Fetch-Site", "cross-site"),
                    Route.STATE_CHANGING_GET))).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
            assertThat(DEFAULTS.check("GET", headers("Host", "127.0.0.1:8000"), Route.STATE_CHANGING_GET)).isEmpty();
        }

        @Test
        void requestsWithoutOriginPass() {
            // curl, SDKs and servers send no Origin
            assertThat(DEFAULTS.check("DELETE", headers("Host", "127.0.0.1:8006"), Route.PLAIN)).isEmpty();
            assertThat(DEFAULTS.check("POST", headers("Sec-Fetch-Site", "same-origin"), Route.PLAIN)).isEmpty();
            assertThat(DEFAULTS.check("POST", headers("Sec-Fetch-Site", "none"), Route.PLAIN)).isEmpty();
        }

        @Test
        void secFetchSiteCrossSiteWithoutOriginIsRefused() {
            assertThat(code(DEFAULTS.check("POST", headers("Host", "127.0.0.1:8006", "Sec-Fetch-Site", "cross-site"),
                    Route.PLAIN))).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
            assertThat(code(DEFAULTS.check("POST", headers("Sec-Fetch-Site", " Cross-Site "), Route.PLAIN)))
                    .isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
        }

        @Test
        void secFetchSiteCrossSiteWithAnAllowedOriginPasses() {
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of(), List.of("https://dash.lan"), EXPOSED);
            assertThat(g.check("POST", headers("Host", "10.0.0.5:8006", "Origin", "https://dash.lan",
                    "Sec-Fetch-Site", "cross-site"), Route.PLAIN)).isEmpty();
            assertThat(code(g.check("POST", headers("Host", "10.0.0.5:8006", "Sec-Fetch-Site", "cross-site"),
                    Route.PLAIN))).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
        }

        @Test
        void sameOriginPasses() {
            assertThat(DEFAULTS.check("DELETE", headers("Host", "127.0.0.1:8006", "Origin", "http://127.0.0.1:8006",
                    "Sec-Fetch-Site", "same-origin"), Route.PLAIN)).isEmpty();
            assertThat(DEFAULTS.check("POST", headers("Host", "[::1]:8006", "Origin", "http://[::1]:8006"),
                    Route.PLAIN)).isEmpty();
            assertThat(DEFAULTS.check("POST", headers("Host", "localhost", "Origin", "http://localhost"),
                    Route.PLAIN)).isEmpty();
            assertThat(DEFAULTS.check("POST", headers("Host", "LocalHost:80", "Origin", "http://localhost/"),
                    Route.PLAIN)).isEmpty();
        }

        @Test
        void theSchemeDecidesTheDefaultPortOfAHostWithoutOne() {
            // behind a TLS proxy: the browser is on https://tts.lan, the proxy passes Host: tts.lan
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of("tts.lan"), List.of(), EXPOSED);
            assertThat(g.check("POST", headers("Host", "tts.lan", "Origin", "https://tts.lan"), Route.PLAIN))
                    .isEmpty();
            assertThat(g.check("POST", headers("Host", "tts.lan:443", "Origin", "https://tts.lan"), Route.PLAIN))
                    .isEmpty();
            assertThat(code(g.check("POST", headers("Host", "tts.lan:8443", "Origin", "https://tts.lan"),
                    Route.PLAIN))).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
        }

        @ParameterizedTest
        @ValueSource(strings = {"http://127.0.0.1:8007", "http://127.0.0.1", "http://localhost:8006",
                "http://127.0.0.1.evil.example:8006", "null", "file://", "chrome-extension://abc",
                "http://127.0.0.1:8006/path", "http://user@127.0.0.1:8006", "", "  ", "http://", "ht tp://x"})
        void anythingButTheExactHostAndPortIsForeign(String origin) {
            assertThat(code(DEFAULTS.check("POST", headers("Host", "127.0.0.1:8006", "Origin", origin),
                    Route.PLAIN))).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
        }

        @Test
        void configuredOriginsMayChangeState() {
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of(),
                    List.of("https://Dash.LAN", "http://10.0.0.2:3000/"), EXPOSED);
            for (String o : List.of("https://dash.lan", "https://dash.lan:443", "HTTPS://DASH.lan/",
                    "http://10.0.0.2:3000")) {
                assertThat(g.check("DELETE", headers("Host", "127.0.0.1:8006", "Origin", o), Route.PLAIN))
                        .as(o).isEmpty();
            }
            for (String o : List.of("http://dash.lan", "https://dash.lan:8443", "http://10.0.0.2:3001",
                    "https://evil.example")) {
                assertThat(code(g.check("DELETE", headers("Host", "127.0.0.1:8006", "Origin", o), Route.PLAIN)))
                        .as(o).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
            }
        }

        @Test
        void aConfiguredStarAllowsAnyOrigin() {
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of(), List.of("*"), EXPOSED);
            assertThat(g.check("DELETE", headers("Origin", "https://evil.example"), Route.PLAIN)).isEmpty();
            assertThat(g.check("DELETE", headers("Origin", "null"), Route.PLAIN)).isEmpty();
            assertThat(g.check("DELETE", headers("Sec-Fetch-Site", "cross-site"), Route.PLAIN)).isEmpty();
        }

        @Test
        void anInvalidConfiguredOriginIsAConfigurationError() {
            assertThatThrownBy(() -> CrossSiteGuard.of("127.0.0.1", List.of(), List.of("dash.lan"), EXPOSED))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dash.lan");
            assertThatThrownBy(() -> CrossSiteGuard.of("127.0.0.1", List.of(), List.of("https://d.lan/x"), EXPOSED))
                    .isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void theHostIsCheckedBeforeTheOrigin() {
            // DNS rebinding: the page's origin is the attacker's name, and so is the Host
            assertThat(code(DEFAULTS.check("POST", headers("Host", "evil.example:8006",
                    "Origin", "http://evil.example:8006"), Route.PLAIN))).isEqualTo(CrossSiteGuard.HOST_NOT_ALLOWED);
        }
    }

    @Nested
    class ContentType {
        @ParameterizedTest
        @ValueSource(strings = {"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x", "application/jsonx", "text/json", "json", "application/xml"})
        void aJsonRouteRefusesOtherBodies(String ct) {
            Optional<ApiException> e = DEFAULTS.check("POST", headers("Host", "127.0.0.1", "Content-Type", ct,
                    "Content-Length", "12"), Route.JSON);
            assertThat(code(e)).isEqualTo("unsupported_media_type");
            assertThat(e.get().status()).isEqualTo(415);
        }

        @Test
        void aJsonRouteRefusesABodyWithoutContentType() {
            assertThat(code(DEFAULTS.check("POST", headers("Content-Length", "12"), Route.JSON)))
                    .isEqualTo("unsupported_media_type");
            assertThat(code(DEFAULTS.check("POST", headers("Transfer-Encoding", "chunked"), Route.JSON)))
                    .isEqualTo("unsupported_media_type");
        }

        @ParameterizedTest
        @ValueSource(strings = {"application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json",
                " application/json "})
        void aJsonRouteTakesJson(String ct) {
            assertThat(DEFAULTS.check("POST", headers("Content-Type", ct, "Content-Length", "12"), Route.JSON))
                    .isEmpty();
        }

        @Test
        void aJsonRouteWithoutBodyNeedsNoContentType() {
            // the manager's POST /gaming-mode?enable=true
            assertThat(DEFAULTS.check("POST", headers("Host", "127.0.0.1:8000"), Route.JSON)).isEmpty();
            assertThat(DEFAULTS.check("POST", headers("Content-Length", "0", "Content-Type", "text/plain"),
                    Route.JSON)).isEmpty();
        }

        @Test
        void otherRoutesTakeAnyBody() {
            assertThat(DEFAULTS.check("POST", headers("Content-Type", "multipart/form-data; boundary=x",
                    "Content-Length", "99"), Route.PLAIN)).isEmpty();
        }

        @Test
        void theTextPlainSimpleRequestIsRefusedEvenWithoutOrigin() {
            assertThat(code(DEFAULTS.check("POST", headers("Host", "127.0.0.1:8000", "Content-Type", "text/plain",
                    "Content-Length", "2"), Route.JSON))).isEqualTo("unsupported_media_type");
        }

        @Test
        void theOriginIsCheckedBeforeTheContentType() {
            assertThat(code(DEFAULTS.check("POST", headers("Origin", "https://evil.example", "Content-Type",
                    "text/plain", "Content-Length", "2"), Route.JSON))).isEqualTo(CrossSiteGuard.ORIGIN_NOT_ALLOWED);
        }

        @Test
        void isJsonNamesJsonOnly() {
            assertThat(CrossSiteGuard.isJson(null)).isFalse();
            assertThat(CrossSiteGuard.isJson("application/json")).isTrue();
            assertThat(CrossSiteGuard.isJson("application/vnd.api+json")).isTrue();
            assertThat(CrossSiteGuard.isJson("text/x+json")).isFalse();
        }
    }

    @Nested
    class Cors {
        @Test
        void noOriginsConfiguredMeansNoHeaders() {
            assertThat(DEFAULTS.corsEnabled()).isFalse();
            assertThat(DEFAULTS.corsHeaders("GET", headers("Origin", "https://evil.example"))).isEmpty();
            assertThat(DEFAULTS.corsHeaders("OPTIONS", headers("Origin", "https://evil.example",
                    "Access-Control-Request-Method", "DELETE"))).isEmpty();
        }

        @Test
        void configuredOriginsAreEchoedWithVary() {
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of(), List.of("https://dash.lan"), EXPOSED);
            Map<String, String> h = g.corsHeaders("GET", headers("Origin", "https://dash.lan"));
            assertThat(h).containsEntry("Access-Control-Allow-Origin", "https://dash.lan")
                    .containsEntry("Vary", "Origin")
                    .containsEntry("Access-Control-Expose-Headers", "x-request-id, Retry-After")
                    .doesNotContainKey("Access-Control-Allow-Methods");
            assertThat(g.corsHeaders("GET", headers("Origin", "https://evil.example"))).isEmpty();
            assertThat(g.corsHeaders("GET", headers())).isEmpty();
        }

        @Test
        void aPreflightOfAnAllowedOriginGetsMethodsAndHeaders() {
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of(), List.of("https://dash.lan"), EXPOSED);
            Function<String, String> pre = headers("Origin", "https://dash.lan", "Access-Control-Request-Method",
                    "DELETE", "Access-Control-Request-Headers", "authorization, content-type");
            assertThat(CrossSiteGuard.isPreflight("OPTIONS", pre)).isTrue();
            assertThat(CrossSiteGuard.isPreflight("OPTIONS", headers("Origin", "https://dash.lan"))).isFalse();
            Map<String, String> h = g.corsHeaders("OPTIONS", pre);
            assertThat(h.get("Access-Control-Allow-Methods")).contains("DELETE").contains("POST");
            assertThat(h).containsEntry("Access-Control-Allow-Headers", "authorization, content-type")
                    .containsKey("Access-Control-Max-Age");
        }

        @Test
        void aStarIsAnsweredWithAStarOnlyWhenConfigured() {
            CrossSiteGuard g = CrossSiteGuard.of("127.0.0.1", List.of(), List.of("*"), EXPOSED);
            assertThat(g.corsHeaders("GET", headers("Origin", "https://anyone.example")))
                    .containsEntry("Access-Control-Allow-Origin", "*").doesNotContainKey("Vary");
            CrossSiteGuard one = CrossSiteGuard.of("127.0.0.1", List.of(), List.of("https://dash.lan"), EXPOSED);
            assertThat(one.corsHeaders("GET", headers("Origin", "https://dash.lan")).values()).doesNotContain("*");
        }
    }

    @Test
    void splitListReadsEnvironmentValues() {
        assertThat(CrossSiteGuard.splitList(" a.lan, ,b.lan:8000 ,")).containsExactly("a.lan", "b.lan:8000");
        assertThat(CrossSiteGuard.splitList(null)).isEmpty();
        assertThat(CrossSiteGuard.splitList("")).isEmpty();
    }

    @Test
    void changesStateByMethodOrRoute() {
        assertThat(CrossSiteGuard.changesState("GET", Route.PLAIN)).isFalse();
        assertThat(CrossSiteGuard.changesState("head", Route.JSON)).isFalse();
        assertThat(CrossSiteGuard.changesState("GET", Route.STATE_CHANGING_GET)).isTrue();
        assertThat(CrossSiteGuard.changesState("POST", Route.PLAIN)).isTrue();
        assertThat(CrossSiteGuard.changesState("delete".toUpperCase(Locale.ROOT), Route.PLAIN)).isTrue();
    }
}
