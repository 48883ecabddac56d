package io.github.sae4j.openwebtext.split;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The gold set is well formed: what the README beside it promises. */
class GoldSetTest {

    private final List<GoldSet.Paragraph> gold = GoldSet.load();

    @Test
    void holdsAtLeast300ParagraphsWithUniqueIds() {
        assertThat(gold).hasSizeGreaterThanOrEqualTo(300);
        Set<String> ids = new HashSet<>();
        gold.forEach(p -> assertThat(ids.add(p.id())).as("id %s is used twice", p.id()).isTrue());
    }

    @Test
    void sentencesJoinedBackAreTheTextUpToWhitespaceBetweenThem() {
        for (GoldSet.Paragraph paragraph : gold) {
            List<TextSpan> spans = paragraph.spans(); // throws, naming the paragraph, if a sentence is out of place
            assertThat(spans).as(paragraph.id()).hasSameSizeAs(paragraph.sentences()).isNotEmpty();
            String withoutWhitespace = paragraph.text().replaceAll("\\s+", "");
            assertThat(String.join("", paragraph.sentences()).replaceAll("\\s+", ""))
                    .as(paragraph.id()).isEqualTo(withoutWhitespace);
        }
    }

    @Test
    void sentencesAreNonEmptyAndTrimmed() {
        for (GoldSet.Paragraph paragraph : gold) {
            for (String sentence : paragraph.sentences()) {
                assertThat(sentence).as(paragraph.id()).isNotBlank().isEqualTo(sentence.strip());
            }
        }
    }

    @Test
    void everyParagraphNamesAKnownSource() {
        Set<String> sources = Set.of("news", "blog", "review", "forum", "recipe", "howto", "tech", "list",
                "dialogue", "legal", "academic", "finance", "sports", "literary", "web");
        assertThat(gold).allSatisfy(p -> assertThat(sources).as(p.id()).contains(p.source()));
    }
}
