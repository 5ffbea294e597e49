package com.example.javaapp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * A small web app with no dependencies beyond the JDK: {@code GET /hello?name=…} greets, {@code GET
 * /ready} answers 200 once the server accepts requests (the Kubernetes readiness probe).
 */
public final class App {
  /** Longest name echoed back; longer names are cut. */
  static final int MAX_NAME = 64;

  private final HttpServer server;
  private final ExecutorService executor;

  private App(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** The greeting for {@code name}: blank means "world", at most {@link #MAX_NAME} characters. */
  static String greeting(String name) {
    String trimmed = name == null ? "" : name.strip();
    if (trimmed.isEmpty()) {
      trimmed = "world";
    }
    if (trimmed.length() > MAX_NAME) {
      trimmed = trimmed.substring(0, MAX_NAME);
    }
    return "Hello, " + trimmed + "!";
  }

  /** Starts serving on {@code port} (0: any free port) and returns the running app. */
  static App start(int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
    ExecutorService executor = Executors.newFixedThreadPool(8);
    server.setExecutor(executor);
    server.createContext(
        "/hello", exchange -> handle(exchange, () -> greeting(name(exchange.getRequestURI()))));
    server.createContext("/ready", exchange -> handle(exchange, () -> "ready"));
    server.createContext("/", exchange -> respond(exchange, 404, "not found"));
    server.start();
    return new App(server, executor);
  }

  /** The port the server listens on. */
  int port() {
    return server.getAddress().getPort();
  }

  /** Stops accepting requests and lets running ones finish for up to {@code graceSeconds}. */
  void stop(int graceSeconds) {
    server.stop(graceSeconds);
    executor.shutdown();
  }

  public static void main(String[] args) throws IOException {
    String configured = System.getenv().getOrDefault("PORT", "8080");
    App app = start(Integer.parseInt(configured));
    // Kubernetes sends SIGTERM before it removes the pod: finish what is running, then exit.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> app.stop(1)));
    System.out.println("java-app listening on port " + app.port());
  }

  private static void handle(HttpExchange exchange, Supplier<String> body) throws IOException {
    String method = exchange.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      respond(exchange, 405, "method not allowed");
      return;
    }
    // An unmatched sub-path of a context (/hello/x, /ready/x) is not ours either.
    String path = exchange.getRequestURI().getPath();
    if (!path.equals(exchange.getHttpContext().getPath())) {
      respond(exchange, 404, "not found");
      return;
    }
    respond(exchange, 200, body.get());
  }

  private static void respond(HttpExchange exchange, int status, String text) throws IOException {
    byte[] bytes = (text + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      if (!head) {
        out.write(bytes);
      }
    }
  }

  private static String name(URI uri) {
    String query = uri.getRawQuery();
    if (query == null) {
      return "";
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals("name")) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return "";
  }
}
