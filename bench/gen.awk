# bench/gen.awk: the lines of one generator service for the benchmark journal (run inside the
# container by bench/gen-journal.sh; mawk or gawk). Prints n lines with a "<N>" syslog priority
# prefix, which journald turns into PRIORITY= for stdout streams (SyslogLevelPrefix=yes) and which
# `logger --prio-prefix` understands for the syslog transport.
#
#   awk -v n=40000 -v seed=1 -f gen.awk
#
# The mix is what services print, not lorem ipsum: access lines, SQL, key=value, JSON payloads
# (quotes and backslashes to escape), UTF-8 text, ANSI colour codes (control bytes: journalctl
# prints those values as byte arrays), tabs, and a few long lines (over 512 bytes: journald
# compresses those).
function pick(s,    a, k) {
        k = split(s, a, "|")
        return a[int(rand() * k) + 1]
}

function prio(    x) {
        x = rand()
        if (x < 0.70) return 6
        if (x < 0.82) return 7
        if (x < 0.90) return 5
        if (x < 0.96) return 4
        if (x < 0.99) return 3
        return 2
}

function hex(len,    s, i) {
        s = ""
        for (i = 0; i < len; i++)
                s = s substr("0123456789abcdef", int(rand() * 16) + 1, 1)
        return s
}

function ip() {
        return int(rand() * 223 + 1) "." int(rand() * 256) "." int(rand() * 256) "." int(rand() * 254 + 1)
}

function words(k,    s, i) {
        s = pick("request|session|cache|worker|upstream|backend|queue|timer|socket|client")
        for (i = 1; i < k; i++)
                s = s " " pick("handled|expired|retrying|connected|closed|flushed|ready|slow|queued|dropped|the|a|for|after|with|in")
        return s
}

function line(i,    x, esc) {
        x = rand()
        esc = sprintf("%c", 27)
        if (x < 0.30)
                return ip() " - - \"" pick("GET|GET|GET|POST|PUT|DELETE") " /" \
                        pick("api/v1/items|api/v1/users|static/app.js|healthz|login|search?q=" hex(6)) \
                        " HTTP/1.1\" " pick("200|200|200|304|404|500|201") " " int(rand() * 90000) \
                        " \"-\" \"" pick("curl/7.88.1|Mozilla/5.0 (X11; Linux x86_64)|kube-probe/1.29") \
                        "\" rt=" sprintf("%.3f", rand()) " req=" hex(16)
        if (x < 0.45)
                return "query took " int(rand() * 900) "ms: SELECT id, name, created_at FROM " \
                        pick("users|orders|sessions|events") " WHERE id = " int(rand() * 1000000) \
                        " AND state = '" pick("open|closed|pending") "'"
        if (x < 0.62)
                return "level=" pick("info|debug|warn") " msg=\"" words(int(rand() * 6) + 2) \
                        "\" trace_id=" hex(32) " span_id=" hex(16) " duration_ms=" int(rand() * 5000)
        if (x < 0.74)
                return "{\"ts\":\"2024-05-0" int(rand() * 9 + 1) "T12:" int(rand() * 50 + 10) \
                        ":00Z\",\"level\":\"" pick("info|error|debug") "\",\"msg\":\"" \
                        words(int(rand() * 5) + 1) "\",\"path\":\"C:\\\\temp\\\\" hex(4) \
                        "\",\"n\":" i "}"
        if (x < 0.82)
                return pick("Benutzer|Utilisateur|Пользователь|ユーザー|用户|Usuário") " " \
                        pick("angemeldet|connecté|вошёл|ログイン|登录|conectado") " — " \
                        pick("größe|déjà vu|naïve café|日本語テキスト|emoji 🚀 ok|ñandú") " #" i
        if (x < 0.88)
                return esc "[3" int(rand() * 7 + 1) "m" pick("INFO|WARN|ERROR") esc "[0m " \
                        words(int(rand() * 8) + 2)
        if (x < 0.93)
                return "worker " int(rand() * 16) "\tjob=" hex(8) "\tstate=" pick("done|failed|retry") \
                        "\telapsed=" int(rand() * 10000)
        if (x < 0.95)
                return "stack: " words(20) " " hex(400) " " words(30) " " hex(200)
        return words(int(rand() * 12) + 3) " (" i ")"
}

BEGIN {
        srand(seed)
        for (i = 1; i <= n; i++)
                printf "<%d>%s\n", prio(), line(i)
}
