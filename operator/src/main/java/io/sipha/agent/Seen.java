package io.sipha.agent;

import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.util.function.Consumer;

/** An informer handler for code that only needs each object as it is now (added or updated). */
public final class Seen<T> implements ResourceEventHandler<T> {
  private final Consumer<T> onSeen;

  private Seen(Consumer<T> onSeen) {
    this.onSeen = onSeen;
  }

  public static <T> Seen<T> by(Consumer<T> onSeen) {
    return new Seen<>(onSeen);
  }

  @Override
  public void onAdd(T obj) {
    onSeen.accept(obj);
  }

  @Override
  public void onUpdate(T oldObj, T newObj) {
    onSeen.accept(newObj);
  }

  @Override
  public void onDelete(T obj, boolean deletedFinalStateUnknown) {
    // a deleted object says nothing new to these readers
  }
}
