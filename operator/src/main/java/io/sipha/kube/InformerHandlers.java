package io.sipha.kube;

import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.util.function.Consumer;

/**
 * Informer handlers for readers that need less than the three callbacks: each object as it is now,
 * any change at all, or some of added, updated and deleted. The one place the operator, the node
 * agent and the demo's site build them.
 */
public final class InformerHandlers {
  private InformerHandlers() {}

  /** Each object as it is now, added or updated; a deletion says nothing new to these readers. */
  public static <T> ResourceEventHandler<T> onSeen(Consumer<T> seen) {
    return of(seen, seen, null);
  }

  /** Any add, update or delete: for a reader that looks at its whole cache again. */
  public static <T> ResourceEventHandler<T> onAnyChange(Runnable changed) {
    return of(o -> changed.run(), o -> changed.run(), o -> changed.run());
  }

  /**
   * The callbacks given (null: that kind of change is ignored); an update passes the object as it
   * is now.
   */
  public static <T> ResourceEventHandler<T> of(
      Consumer<T> added, Consumer<T> updated, Consumer<T> deleted) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        if (added != null) {
          added.accept(obj);
        }
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        if (updated != null) {
          updated.accept(newObj);
        }
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        if (deleted != null) {
          deleted.accept(obj);
        }
      }
    };
  }
}
