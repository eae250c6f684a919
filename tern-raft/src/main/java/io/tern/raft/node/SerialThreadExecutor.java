package io.tern.raft.node;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread running tasks in submission order, fed through a lock-free multi-producer
 * single-consumer queue (JCTools). Producers never block; the thread parks when idle.
 */
public final class SerialThreadExecutor implements Executor, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SerialThreadExecutor.class);

  private final MpscUnboundedXaddArrayQueue<Runnable> queue =
      new MpscUnboundedXaddArrayQueue<>(1024);
  private final Thread thread;
  private volatile boolean parked;
  private volatile boolean running = true;

  public SerialThreadExecutor(String name) {
    thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void execute(Runnable task) {
    if (!running) {
      throw new RejectedExecutionException(thread.getName() + " is closed");
    }
    queue.offer(task);
    if (parked) {
      LockSupport.unpark(thread);
    }
  }

  private void run() {
    while (running) {
      Runnable task = queue.poll();
      if (task == null) {
        parked = true;
        if (queue.isEmpty() && running) {
          LockSupport.park(this);
        }
        parked = false;
        continue;
      }
      try {
        task.run();
      } catch (Throwable t) {
        LOG.error("task failed on {}", thread.getName(), t);
      }
    }
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
  }
}
