package io.sipha.cli.plugin.completion;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kubectl sipha completion bash}: the shell completion of the plugin's commands and options,
 * made by picocli from the command tree; and {@code __complete}, the answer kubectl asks of {@code
 * kubectl_complete-sipha} when {@code kubectl sipha <TAB>} is completed.
 */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Print the shell completion script of kubectl-sipha (bash; zsh with bashcompinit).",
      "  source <(kubectl sipha completion bash)",
      "completes kubectl-sipha <TAB>. For kubectl sipha <TAB> (kubectl 1.26 or later), put on the PATH an"
          + " executable kubectl_complete-sipha that runs: kubectl sipha __complete \"$@\" (make install-plugin"
          + " writes it)."
    })
public final class CompletionCommand implements Callable<Integer> {
  /** Cobra's directive for kubectl: complete with these words only, no file names. */
  static final int NO_FILE_COMPLETION = 4;

  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "SHELL",
      description = "bash (the script works in zsh too, after bashcompinit).",
      defaultValue = "bash")
  String shell;

  @Override
  public Integer call() {
    if (!shell.equals("bash") && !shell.equals("zsh")) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "SHELL " + shell + ": bash or zsh");
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(AutoComplete.bash("kubectl-sipha", spec.parent().commandLine()));
    out.flush();
    return 0;
  }

  /** kubectl's plugin completion: the words that may follow, one per line, then {@code :4}. */
  @Command(name = "__complete", hidden = true, description = "Completion candidates for kubectl.")
  public static final class Candidates implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        paramLabel = "WORD",
        arity = "0..*",
        description = "The words so far; the last is being completed.")
    List<String> words = new ArrayList<>();

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      candidates(spec.parent(), words).forEach(out::println);
      out.println(":" + NO_FILE_COMPLETION);
      out.flush();
      return 0;
    }

    /** The whole words that may stand in place of the last of {@code words} (an empty one: any). */
    static List<String> candidates(CommandSpec root, List<String> words) {
      String[] args = words.isEmpty() ? new String[] {""} : words.toArray(new String[0]);
      String partial = args[args.length - 1];
      List<CharSequence> found = new ArrayList<>();
      AutoComplete.complete(root, args, args.length - 1, partial.length(), partial.length(), found);
      return found.stream()
          .map(c -> partial + c)
          .filter(w -> !w.equals("__complete"))
          .distinct()
          .sorted()
          .toList();
    }
  }
}
