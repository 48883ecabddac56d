package io.github.sae4j.openwebtext.split;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** What the rule-based splitter does with each kind of hard case on the web. */
class RuleSentenceSplitterTest {

    private final SentenceSplitter splitter = new RuleSentenceSplitter();

    private void assertSplits(String text, String... sentences) {
        List<String> actual = splitter.split(text).stream().map(s -> s.of(text)).toList();
        assertThat(actual).as("sentences of %s", text).containsExactly(sentences);
    }

    @Test
    void endsSentencesAtPeriodsQuestionAndExclamationMarks() {
        assertSplits("It rained. Did it stop? Yes!", "It rained.", "Did it stop?", "Yes!");
    }

    @Test
    void keepsRunsOfMarksWithTheSentenceTheyEnd() {
        assertSplits("Really?! No way!!! Wow.", "Really?!", "No way!!!", "Wow.");
    }

    @Test
    void doesNotEndASentenceBeforeALowercaseWord() {
        assertSplits("Is it? well, maybe. Fine.", "Is it? well, maybe.", "Fine.");
    }

    @Test
    void startsASentenceWithADigitOrACamelCaseBrand() {
        assertSplits("Sales fell. 2019 was worse. iPhone sales rose.",
                "Sales fell.", "2019 was worse.", "iPhone sales rose.");
    }

    @Nested
    class Abbreviations {

        @Test
        void titlesNeverEndASentence() {
            assertSplits("Mr. Smith met Dr. Jones and Prof. Lee. They talked.",
                    "Mr. Smith met Dr. Jones and Prof. Lee.", "They talked.");
        }

        @Test
        void latinAbbreviationsInsideASentenceDoNotEndIt() {
            assertSplits("Use a fruit, e.g. Apples or pears, i.e. Something sweet. Then bake.",
                    "Use a fruit, e.g. Apples or pears, i.e. Something sweet.", "Then bake.");
            assertSplits("It was Smith vs. Jones in court.", "It was Smith vs. Jones in court.");
        }

        @Test
        void etcEndsASentenceWhenACapitalFollows() {
            assertSplits("We packed tents, stoves, etc. The car was full.",
                    "We packed tents, stoves, etc.", "The car was full.");
            assertSplits("Fruit (apples, pears, etc.) is cheap.", "Fruit (apples, pears, etc.) is cheap.");
        }

        @Test
        void companySuffixesEndASentenceOnlyBeforeACommonOpener() {
            assertSplits("Apple Inc. said profits rose. He works at Acme Inc. The pay is good.",
                    "Apple Inc. said profits rose.", "He works at Acme Inc.", "The pay is good.");
        }

        @Test
        void dottedAbbreviationsEndASentenceOnlyBeforeACommonOpener() {
            assertSplits("The U.S. Senate voted. She moved to the U.S. It was 2010.",
                    "The U.S. Senate voted.", "She moved to the U.S.", "It was 2010.");
        }

        @Test
        void numberAbbreviationsDoNotEndASentenceBeforeANumber() {
            assertSplits("See No. 5 and Fig. 3 on p. 34. Done.", "See No. 5 and Fig. 3 on p. 34.", "Done.");
        }

        @Test
        void monthsAndStreetsAreAbbreviationsToo() {
            assertSplits("It opens Jan. 5 on Elm St. near the river. Come early.",
                    "It opens Jan. 5 on Elm St. near the river.", "Come early.");
            assertSplits("They live in St. Louis.", "They live in St. Louis.");
        }

        @Test
        void clockTimesEndASentenceUnlessATimeZoneOrDayFollows() {
            assertSplits("It starts at 7 a.m. Runners arrive by 6. The show is at 9 p.m. ET on Friday.",
                    "It starts at 7 a.m.", "Runners arrive by 6.", "The show is at 9 p.m. ET on Friday.");
        }
    }

    @Test
    void initialsDoNotEndASentence() {
        assertSplits("J. R. R. Tolkien wrote it. George W. Bush read it. J. A. Robertson did not.",
                "J. R. R. Tolkien wrote it.", "George W. Bush read it.", "J. A. Robertson did not.");
    }

    @Test
    void aSingleCapitalEndsASentenceBeforeACommonOpener() {
        assertSplits("Take vitamin C. The rest is optional.", "Take vitamin C.", "The rest is optional.");
    }

    @Test
    void decimalsMoneyAndPercentagesDoNotEndASentence() {
        assertSplits("Pi is 3.14. It cost $2.5 million, up 1.5%. Fine.",
                "Pi is 3.14.", "It cost $2.5 million, up 1.5%.", "Fine.");
    }

    @Test
    void ellipsesEndASentenceOnlyBeforeACapital() {
        assertSplits("I waited... and waited. Nothing... Then a knock… Silence.",
                "I waited... and waited.", "Nothing...", "Then a knock…", "Silence.");
    }

    @Nested
    class QuotesAndBrackets {

        @Test
        void aClosingQuoteBelongsToTheSentenceBeforeIt() {
            assertSplits("\"Stop.\" He left. “Why?” she asked. 'Fine.' OK.",
                    "\"Stop.\"", "He left.", "“Why?” she asked.", "'Fine.'", "OK.");
        }

        @Test
        void aBracketedSentenceIsASentence() {
            assertSplits("(See above.) Next comes the test [see below]. Done.",
                    "(See above.)", "Next comes the test [see below].", "Done.");
        }

        @Test
        void aQuotedQuestionBeforeADialogueTagDoesNotEndTheSentence() {
            assertSplits("\"Well?\" Anna said. \"Come on!\" Mrs. Patel shouted. \"Really?\" Jake shrugged.",
                    "\"Well?\" Anna said.", "\"Come on!\" Mrs. Patel shouted.", "\"Really?\"", "Jake shrugged.");
        }

        @Test
        void footnoteMarksStayWithTheirSentence() {
            assertSplits("It was built in 1889.[12] It is tall.", "It was built in 1889.[12]", "It is tall.");
        }
    }

    @Test
    void urlsFileNamesAndEmailAddressesAreNotBoundaries() {
        assertSplits("See example.com/a.b and www.x.org. Mail user.name@mail.co.uk. Open config.yaml now.",
                "See example.com/a.b and www.x.org.", "Mail user.name@mail.co.uk.", "Open config.yaml now.");
    }

    @Nested
    class LinesAndBlocks {

        @Test
        void aBlankLineAlwaysEndsASentence() {
            assertSplits("Hi everyone,\n\nthe office is closed\n \n\nMr.\n\nSmith", "Hi everyone,",
                    "the office is closed", "Mr.", "Smith");
        }

        @Test
        void headingsAndListItemsAreSentencesOfTheirOwn() {
            assertSplits("## Installation\nYou will need:\n- a screwdriver\n* tape\n• glue\n1. Unplug it.\n2) Wait",
                    "## Installation", "You will need:", "- a screwdriver", "* tape", "• glue", "1. Unplug it.",
                    "2) Wait");
        }

        @Test
        void aLineWithoutFinalPunctuationEndsBeforeACapital() {
            assertSplits("Ingredients\nTwo cups of flour\nOne egg", "Ingredients", "Two cups of flour", "One egg");
        }

        @Test
        void aLineGoesOnWhenTheNextStartsInLowercase() {
            assertSplits("It was the kind of day\nthat makes one glad.", "It was the kind of day\nthat makes one glad.");
        }

        @Test
        void hardWrappedProseIsJoinedAcrossNewlines() {
            String text = "We are pleased to announce that the quarterly\nReview has been moved to next Thursday, Nov. 9,"
                    + "\nso that everyone can attend the training on\nWednesday. Please update your calendars.";
            assertSplits(text, text.substring(0, text.indexOf(" Please")), "Please update your calendars.");
        }

        @Test
        void windowsLineEndingsAreLineEndings() {
            assertSplits("Title\r\nFirst line.\r\n\r\nSecond.", "Title", "First line.", "Second.");
        }
    }

    @Test
    void whitespaceOnlyOrEmptyTextHasNoSentences() {
        assertThat(splitter.split("")).isEmpty();
        assertThat(splitter.split(" \n\t\u00A0\n ")).isEmpty();
    }

    @Test
    void offsetsAreUtf16IndicesIntoTheText() {
        String text = "  Emoji 😀 here.  Next. ";
        assertThat(splitter.split(text)).containsExactly(new TextSpan(2, 16), new TextSpan(18, 23));
    }
}
