package io.sipha.lab;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Draws who answered over time, one panel per run of a workflow: time on x (0 = the action), one
 * lane per host plus a lane for probes that got no answer, a tick per probe, the outage shaded, and
 * the steps seen during the workflow (scripts run, status changes) as labelled marks. java.awt in
 * headless mode, nothing else.
 */
final class Timeline {
  /** A labelled instant on the timeline. */
  record Mark(long atMicros, String label) {}

  /** One run of a workflow. */
  record Panel(String title, List<Sipp.Sample> samples, Outage outage, List<Mark> marks) {}

  private static final List<String> LANES = List.of("host-a", "host-b", "no answer");
  private static final Color[] COLORS = {
    new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e), new Color(0xd6, 0x27, 0x28)
  };
  private static final int WIDTH = 1400;
  private static final int LEFT = 90;
  private static final int RIGHT = 30;
  private static final int LANE = 26;
  private static final int PANEL_TOP = 44;
  private static final int MARK_ROWS_TOP = 68;

  private Timeline() {}

  static void render(String title, List<Panel> panels, Path png) {
    System.setProperty("java.awt.headless", "true");
    long spanBefore = 0;
    long spanAfter = 0;
    for (Panel p : panels) {
      spanBefore = Math.max(spanBefore, p.outage().actionMicros() - p.outage().fromMicros());
      spanAfter = Math.max(spanAfter, p.outage().toMicros() - p.outage().actionMicros());
    }
    int[] heights =
        panels.stream()
            .mapToInt(
                p ->
                    PANEL_TOP
                        + LANES.size() * LANE
                        + MARK_ROWS_TOP
                        + (int) ((p.marks().size() + 1) / 2) * 14
                        + 8)
            .toArray();
    int height = 40 + java.util.Arrays.stream(heights).sum();
    BufferedImage img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, height);
      Text text = new Text(g);
      text.draw(title, 12, 26, Color.BLACK, 16, true);
      double pxPerMicro = (WIDTH - LEFT - RIGHT) / (double) Math.max(1, spanBefore + spanAfter);
      int top = 40;
      for (int i = 0; i < panels.size(); i++) {
        drawPanel(g, text, panels.get(i), top, spanBefore, pxPerMicro);
        top += heights[i];
      }
    } finally {
      g.dispose();
    }
    try {
      Files.createDirectories(png.toAbsolutePath().getParent());
      ImageIO.write(img, "png", png.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void drawPanel(
      Graphics2D g, Text text, Panel p, int top, long spanBefore, double pxPerMicro) {
    Outage o = p.outage();
    long origin = o.actionMicros();
    java.util.function.LongToIntFunction x =
        t -> LEFT + (int) Math.round((t - origin + spanBefore) * pxPerMicro);
    int lanesTop = top + PANEL_TOP;
    int lanesBottom = lanesTop + LANES.size() * LANE;
    text.draw(p.title(), 12, top + 16, Color.BLACK, 13, true);
    // the outage
    g.setColor(new Color(255, 220, 220));
    int gx0 = x.applyAsInt(o.gapStartMicros());
    int gx1 = Math.max(gx0 + 1, x.applyAsInt(o.gapEndMicros()));
    g.fillRect(gx0, lanesTop, gx1 - gx0, lanesBottom - lanesTop);
    // lanes
    for (int l = 0; l < LANES.size(); l++) {
      int y = lanesTop + l * LANE;
      g.setColor(new Color(245, 245, 245));
      g.drawLine(LEFT, y + LANE / 2, WIDTH - RIGHT, y + LANE / 2);
      text.draw(LANES.get(l), 8, y + LANE / 2 + 4, COLORS[l], 12, false);
    }
    g.setColor(Color.GRAY);
    g.drawRect(LEFT, lanesTop, WIDTH - LEFT - RIGHT, lanesBottom - lanesTop);
    // one tick per probe: an answer in its host's lane, a timeout at the time it was sent
    for (Sipp.Sample s : p.samples()) {
      long t = s.sentAtMicros();
      if (t < o.fromMicros() || t > o.toMicros()) {
        continue;
      }
      int lane = s.answered() ? Math.max(0, LANES.indexOf(s.host())) : 2;
      if (s.answered() && LANES.indexOf(s.host()) < 0) {
        continue;
      }
      int y = lanesTop + lane * LANE;
      g.setColor(COLORS[lane]);
      int px = x.applyAsInt(t);
      g.drawLine(px, y + 4, px, y + LANE - 4);
    }
    // the action and the steps: a numbered line each, explained under the lanes
    g.setColor(Color.BLACK);
    g.setStroke(new BasicStroke(1.5f));
    int ax = x.applyAsInt(origin);
    g.drawLine(ax, lanesTop - 2, ax, lanesBottom + 2);
    g.setStroke(
        new BasicStroke(
            1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {3f, 3f}, 0f));
    List<Mark> shown =
        p.marks().stream()
            .filter(m -> m.atMicros() >= o.fromMicros() && m.atMicros() <= o.toMicros())
            .toList();
    int lastX = Integer.MIN_VALUE;
    int row = 0;
    for (int i = 0; i < shown.size(); i++) {
      Mark m = shown.get(i);
      int mx = x.applyAsInt(m.atMicros());
      g.setColor(new Color(90, 90, 90));
      g.drawLine(mx, lanesTop, mx, lanesBottom + 2);
      row = mx - lastX < 14 ? (row + 1) % 5 : 0;
      lastX = mx;
      text.draw(String.valueOf(i + 1), mx - 3, lanesBottom + 13 + row * 10, Color.BLACK, 10, true);
      int col = i % 2;
      int line = i / 2;
      String at =
          String.format(
              java.util.Locale.ROOT, "%+d ms", Math.round((m.atMicros() - origin) / 1000.0));
      text.draw(
          (i + 1) + "  " + at + "  " + m.label(),
          LEFT + col * ((WIDTH - LEFT - RIGHT) / 2),
          lanesBottom + MARK_ROWS_TOP + line * 14,
          new Color(50, 50, 50),
          11,
          false);
    }
    g.setStroke(new BasicStroke(1f));
    // the time axis, in ms from the action
    g.setColor(Color.GRAY);
    long stepMs = pickStep((long) ((WIDTH - LEFT - RIGHT) / pxPerMicro / 1000));
    long firstMs = -(spanBefore / 1000 / stepMs) * stepMs;
    for (long ms = firstMs; x.applyAsInt(origin + ms * 1000) <= WIDTH - RIGHT; ms += stepMs) {
      int tx = x.applyAsInt(origin + ms * 1000);
      if (tx < LEFT) {
        continue;
      }
      g.drawLine(tx, lanesTop - 3, tx, lanesTop);
      text.draw(ms + " ms", tx - 14, lanesTop - 6, Color.GRAY, 10, false);
    }
  }

  private static long pickStep(long spanMs) {
    for (long s : new long[] {50, 100, 250, 500, 1000, 2000, 5000}) {
      if (spanMs / s <= 14) {
        return s;
      }
    }
    return 10_000;
  }

  /** Text that degrades to nothing where the JVM has no usable font (a bare CI image). */
  private static final class Text {
    private final Graphics2D g;
    private boolean usable = true;

    Text(Graphics2D g) {
      this.g = g;
    }

    void draw(String s, int x, int y, Color c, int size, boolean bold) {
      if (!usable) {
        return;
      }
      try {
        g.setColor(c);
        g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, size));
        g.drawString(s, x, y);
      } catch (RuntimeException | Error e) {
        usable = false;
      }
    }
  }
}
