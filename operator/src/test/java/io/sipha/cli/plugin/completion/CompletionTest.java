package io.sipha.cli.plugin.completion;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.cli.PluginMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Shell completion of the plugin: kubectl's plugin protocol, and the bash script, run in a real
 * bash.
 */
class CompletionTest {
  private record Run(int code, String out) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cl = PluginMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(new StringWriter(), true));
    return new Run(cl.execute(args), out.toString());
  }

  @Test
  void kubectlIsAnsweredWithTheVerbsThatStartWithWhatWasTypedAndNoFileNames() {
    Run r = run("__complete", "s");
    assertThat(r.code()).isZero();
    assertThat(r.out().lines().toList()).containsExactly("status", "switchover", ":4");
  }

  @Test
  void anEmptyWordIsCompletedWithEveryVerbButTheHiddenOne() {
    assertThat(run("__complete", "").out().lines().toList())
        .contains("completion", "history", "plan", "status", "switchover", ":4")
        .doesNotContain("__complete");
  }

  @Test
  void aVerbsOptionsAreCompleted() {
    assertThat(run("__complete", "switchover", "pair-1", "--t").out().lines().toList())
        .containsExactly("--timeout", "--to", ":4");
  }

  @Test
  void theBashScriptCompletesTheVerbsInARealBash(@TempDir Path dir) throws Exception {
    Run r = run("completion", "bash");
    assertThat(r.code()).isZero();
    Path script = dir.resolve("kubectl-sipha.bash");
    Files.writeString(script, r.out());
    Process bash =
        new ProcessBuilder(
                "bash",
                "-c",
                "source "
                    + script
                    + " && COMP_WORDS=(kubectl-sipha sw) && COMP_CWORD=1"
                    + " && COMP_LINE='kubectl-sipha sw' && COMP_POINT=${#COMP_LINE} && _complete_kubectl-sipha kubectl-sipha sw"
                    + " && printf '%s\\n' \"${COMPREPLY[@]}\"")
            .redirectErrorStream(true)
            .start();
    assertThat(bash.waitFor(20, TimeUnit.SECONDS)).isTrue();
    String said = new String(bash.getInputStream().readAllBytes());
    assertThat(said.lines().map(String::strip).toList()).as(said).containsExactly("switchover");
  }

  @Test
  void anUnknownShellIsRefusedNamingTheChoices() {
    StringWriter err = new StringWriter();
    CommandLine cl = PluginMain.commandLine();
    cl.setErr(new PrintWriter(err, true));
    assertThat(cl.execute("completion", "fish")).isEqualTo(2);
    assertThat(err.toString()).contains("SHELL fish: bash or zsh");
  }
}
