package io.github.sae4j.cli;

import io.github.sae4j.api.model.ChatMessage;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.LanguageModel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sae4j chat}: an interactive chat in the terminal, streamed token by token. */
@Command(name = "chat", sortOptions = false, description = {
        "Chat with a language model in the terminal (its chat template; the embedded tiny Llama 3 unless --model).",
        "Type a message and press Enter; /reset starts over, /system TEXT sets the system message, /exit quits."})
final class ChatCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--system", description = "system message")
    String system;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        GenerationOptions options = sampling.options();
        try (LanguageModel model = modelOptions.open()) {
            out.println("Chatting with " + model.info().name() + " (" + model.info().dModel() + "-wide, "
                    + model.info().layers() + " layers). /reset, /system TEXT, /exit.");
            List<ChatMessage> history = new ArrayList<>();
            long turn = 0;
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                line = line.strip();
                if (line.isEmpty()) {
                    continue;
                }
                if (line.equals("/reset")) {
                    history.clear();
                    out.println("(conversation cleared)");
                    continue;
                }
                if (line.startsWith("/system")) {
                    system = line.substring("/system".length()).strip();
                    history.clear();
                    out.println("(system message set; conversation cleared)");
                    continue;
                }
                List<ChatMessage> messages = new ArrayList<>();
                if (system != null && !system.isEmpty()) {
                    messages.add(ChatMessage.system(system));
                }
                messages.addAll(history);
                messages.add(ChatMessage.user(line));
                int[] prompt = model.tokenizer().encodeChat(messages, true);
                int room = model.info().maxContext() - prompt.length;
                if (room <= 1) {
                    out.println("(the conversation fills the model's " + model.info().maxContext()
                            + "-token context; /reset to start over)");
                    continue;
                }
                GenerationOptions turnOptions = new GenerationOptions(Math.min(options.maxNewTokens(), room - 1),
                        options.temperature(), options.topP(), options.topK(), options.seed() + turn++, null);
                GenerationResult reply = model.generate(prompt, turnOptions, List.of(), (token, text) -> {
                    out.print(text);
                    out.flush();
                });
                out.println();
                if (reply.stopReason() != GenerationResult.StopReason.STOP_TOKEN) {
                    out.println("(" + reply.stopReason().toString().toLowerCase(Locale.ROOT).replace('_', ' ') + ")");
                }
                history.add(ChatMessage.user(line));
                history.add(ChatMessage.assistant(reply.text()));
            }
        }
        return 0;
    }
}
