package io.github.sae4j.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.model.ChatMessage;
import io.github.sae4j.core.steer.Steering;
import org.junit.jupiter.api.Test;

class ChatRequestTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static ChatRequest parse(String json) throws Exception {
        return ChatRequest.parse(JSON.readTree(json));
    }

    @Test
    void readsAFullRequestAndFillsDefaults() throws Exception {
        ChatRequest r = parse("""
                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <b>"}],
                 "steer": [{"latent": 7, "strength": 8}, {"latent": 9, "strength": "-2.5"}], "mode": "clamp",
                 "positions": "generated", "max_tokens": 20, "temperature": 0, "top_p": 0.5, "seed": 11,
                 "compare": false, "template": false}""");
        assertThat(r.messages()).containsExactly(ChatMessage.system("Be brief."), ChatMessage.user("Hi <b>"));
        assertThat(r.edits()).containsExactly(new Steering.Edit(7, 8, Steering.Mode.CLAMP),
                new Steering.Edit(9, -2.5, Steering.Mode.CLAMP));
        assertThat(r.positions()).isEqualTo(Steering.Positions.GENERATED);
        assertThat(r.options().maxNewTokens()).isEqualTo(20);
        assertThat(r.options().isGreedy()).isTrue();
        assertThat(r.options().seed()).isEqualTo(11);
        assertThat(r.compare()).isFalse();
        assertThat(r.template()).isFalse();

        ChatRequest d = parse("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}");
        assertThat(d.edits()).isEmpty();
        assertThat(d.positions()).isEqualTo(Steering.Positions.ALL);
        assertThat(d.options().maxNewTokens()).isEqualTo(48);
        assertThat(d.compare()).isTrue();
        assertThat(d.template()).isTrue();
    }

    @Test
    void refusesWhatCannotBeRun() {
        String ok = "\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]";
        assertThatThrownBy(() -> parse("[]")).hasMessageContaining("JSON object");
        assertThatThrownBy(() -> parse("{\"messages\": []}")).hasMessageContaining("non-empty");
        assertThatThrownBy(() -> parse("{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}"))
                .hasMessageContaining("system, user or assistant");
        assertThatThrownBy(() -> parse("{\"messages\": [{\"role\": \"user\"}]}")).hasMessageContaining("text content");
        assertThatThrownBy(() -> parse("{" + ok + ", \"steer\": [{\"latent\": 1, \"strength\": \"NaN\"}]}"))
                .hasMessageContaining("finite");
        assertThatThrownBy(() -> parse("{" + ok + ", \"steer\": [{\"latent\": 1, \"strength\": \"Infinity\"}]}"))
                .hasMessageContaining("finite");
        assertThatThrownBy(() -> parse("{" + ok + ", \"steer\": [{\"latent\": 1, \"strength\": \"lots\"}]}"))
                .hasMessageContaining("must be a number");
        assertThatThrownBy(() -> parse("{" + ok + ", \"steer\": [{\"latent\": \"x\", \"strength\": 1}]}"))
                .hasMessageContaining("integer latent");
        assertThatThrownBy(() -> parse("{" + ok + ", \"max_tokens\": 0}")).hasMessageContaining("max_tokens");
        assertThatThrownBy(() -> parse("{" + ok + ", \"max_tokens\": 5000}")).hasMessageContaining("max_tokens");
        assertThatThrownBy(() -> parse("{" + ok + ", \"temperature\": -1}")).hasMessageContaining("temperature");
        assertThatThrownBy(() -> parse("{" + ok + ", \"top_p\": 0}")).hasMessageContaining("top_p");
        assertThatThrownBy(() -> parse("{" + ok + ", \"mode\": \"shout\"}")).hasMessageContaining("add, bias or clamp");
        assertThatThrownBy(() -> parse("{" + ok + ", \"positions\": \"some\"}"))
                .hasMessageContaining("all, prompt or generated");
    }
}
