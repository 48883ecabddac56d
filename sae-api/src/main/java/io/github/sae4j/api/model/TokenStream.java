package io.github.sae4j.api.model;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Generation as an iterator: tokens arrive as the model produces them, for callers that would rather pull than be
 * called back ({@link LanguageModel#stream}). Generation runs on a thread of its own, at most
 * {@value #BUFFER} tokens ahead of the reader. Closing the stream before the end stops the generation at the next
 * token; the model may then be used again. Do not use the model for anything else while a stream is open.
 *
 * <pre>{@code
 * try (TokenStream s = model.stream(prompt, GenerationOptions.greedy(40), List.of())) {
 *     while (s.hasNext()) System.out.print(s.next().text());
 *     System.out.println(" [" + s.result().stopReason() + "]");
 * }
 * }</pre>
 */
public final class TokenStream implements Iterator<TokenStream.Token>, AutoCloseable {

    /** Tokens the generating thread may be ahead of the reader. */
    public static final int BUFFER = 64;

    /** One generated token and the text that became complete with it (possibly empty). */
    public record Token(int id, String text) {
    }

    private static final Object END = new Object();

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(BUFFER + 1);
    private final Thread producer;
    private volatile boolean closed;
    private volatile GenerationResult result;
    private volatile Throwable failure;
    private Object next;
    private boolean ended;

    TokenStream(LanguageModel model, int[] prompt, GenerationOptions options, List<ResidualHook> hooks) {
        producer = Thread.ofPlatform().daemon().name("sae4j-token-stream").unstarted(() -> {
            try {
                result = model.generate(prompt, options, hooks, (token, text) -> {
                    if (closed) {
                        throw new Cancelled();
                    }
                    put(new Token(token, text));
                });
            } catch (Cancelled c) {
                // closed by the reader: nothing to report
            } catch (Throwable t) {
                failure = t;
            } finally {
                try {
                    put(END);
                } catch (Cancelled ignored) {
                    // the reader is gone
                }
            }
        });
        producer.start();
    }

    private void put(Object item) {
        try {
            while (!queue.offer(item, 50, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                if (closed) {
                    throw new Cancelled();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Cancelled();
        }
    }

    @Override
    public boolean hasNext() {
        if (next != null) {
            return true;
        }
        if (ended || closed) {
            return false;
        }
        try {
            Object item = queue.take();
            if (item == END) {
                ended = true;
                producer.join();
                if (failure != null) {
                    throw new IllegalStateException("generation failed: " + failure.getMessage(), failure);
                }
                return false;
            }
            next = item;
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the next token", e);
        }
    }

    @Override
    public Token next() {
        if (!hasNext()) {
            throw new NoSuchElementException("generation has ended");
        }
        Token t = (Token) next;
        next = null;
        return t;
    }

    /**
     * What {@link LanguageModel#generate} returned: all tokens, the text and the stop reason.
     *
     * @throws IllegalStateException before the stream has ended, or if it was closed early
     */
    public GenerationResult result() {
        if (!ended || result == null) {
            throw new IllegalStateException("the stream has not ended (read it until hasNext() is false)");
        }
        return result;
    }

    /** Stops generation if it is still running and waits for the generating thread to finish. */
    @Override
    public void close() {
        closed = true;
        queue.clear();
        try {
            producer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown inside the listener to abandon a generation whose reader has gone. */
    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("token stream closed", null, false, false);
        }
    }
}
