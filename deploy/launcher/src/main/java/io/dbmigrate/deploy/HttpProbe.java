package io.dbmigrate.deploy;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** GET with short timeouts, for health checks. */
final class HttpProbe {
    private static final OkHttpClient HTTP = new OkHttpClient.Builder()
            .connectTimeout(2, TimeUnit.SECONDS).readTimeout(5, TimeUnit.SECONDS).build();

    private HttpProbe() {}

    /** The body of a 2xx answer; otherwise a StackException naming the path and status. */
    static String get(String baseUrl, String path) throws IOException {
        Request req = new Request.Builder().url(baseUrl + path).get().build();
        try (Response resp = HTTP.newCall(req).execute()) {
            String body = resp.body() == null ? "" : resp.body().string();
            if (!resp.isSuccessful()) {
                throw new StackException("GET " + path + " answered " + resp.code() + ": " + body);
            }
            return body;
        }
    }
}
