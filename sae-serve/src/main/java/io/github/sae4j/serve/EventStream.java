package io.github.sae4j.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events written straight to a response, flushed one by one. The response is committed by the first
 * event, so an error found before it can still be answered with a plain status. A write that fails (the client has
 * gone) throws {@link ClientGone}, which a generation lets through to stop.
 */
final class EventStream {

    /** The client closed the connection. */
    static final class ClientGone extends RuntimeException {
        ClientGone(IOException cause) {
            super("the client closed the connection", cause, false, false);
        }
    }

    private final HttpServletResponse response;
    private final ObjectMapper json;
    private OutputStream out;

    EventStream(HttpServletResponse response, ObjectMapper json) {
        this.response = response;
        this.json = json;
    }

    boolean started() {
        return out != null;
    }

    /** Writes one event whose data is {@code payload} as JSON, and flushes it. */
    synchronized void send(String event, Object payload) {
        String data;
        try {
            data = json.writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write an event as JSON", e);
        }
        try {
            if (out == null) {
                response.setStatus(200);
                response.setContentType("text/event-stream; charset=utf-8");
                response.setHeader("Cache-Control", "no-cache");
                response.setHeader("X-Accel-Buffering", "no");
                out = response.getOutputStream();
            }
            out.write(("event: " + event + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }
}
