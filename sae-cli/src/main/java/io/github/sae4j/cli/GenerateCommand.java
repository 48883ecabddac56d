package io.github.sae4j.cli;

import io.github.sae4j.api.model.ChatMessage;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.LanguageModel;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sae4j generate}: continue prompts with a language model, streaming the text. */
@Command(name = "generate", sortOptions = false, description = {
        "Continue one or more prompts with a language model (the embedded tiny Llama 3 unless --model is given),",
        "streaming tokens as they come. Several --prompt options are generated together in one batch."})
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-p", "--prompt"}, required = true, description = "prompt text (repeatable: a batch)")
    List<String> prompts;

    @Option(names = "--chat", description = "wrap each prompt as a user turn in the model's chat template")
    boolean chat;

    @Option(names = "--system", description = "system message for --chat")
    String system;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--no-bos", description = "do not start the prompt with the beginning-of-text token")
    boolean noBos;

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GenerationOptions options = sampling.options();
        try (LanguageModel model = modelOptions.open()) {
            List<int[]> encoded = new ArrayList<>();
            for (String p : prompts) {
                if (chat) {
                    List<ChatMessage> messages = new ArrayList<>();
                    if (system != null) {
                        messages.add(ChatMessage.system(system));
                    }
                    messages.add(ChatMessage.user(p));
                    encoded.add(model.tokenizer().encodeChat(messages, true));
                } else {
                    encoded.add(model.tokenizer().encode(p, !noBos));
                }
            }
            long start = System.nanoTime();
            List<GenerationResult> results;
            if (encoded.size() == 1) {
                out.print(prompts.get(0));
                out.flush();
                results = List.of(model.generate(encoded.get(0), options, List.of(), (token, text) -> {
                    out.print(text);
                    out.flush();
                }));
                out.println();
            } else {
                results = model.generate(encoded, options, List.of(), null);
                for (int i = 0; i < results.size(); i++) {
                    out.println("[" + i + "] " + prompts.get(i) + results.get(i).text());
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            int tokens = results.stream().mapToInt(r -> r.tokens().length).sum();
            err.printf(Locale.ROOT, "%d tokens in %.2f s (%.1f tokens/s), stop: %s%n", tokens, seconds, tokens / seconds,
                    results.stream().map(r -> r.stopReason().toString().toLowerCase(Locale.ROOT)).toList());
        }
        return 0;
    }
}
