package com.example.javaapp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AppTest {
  private final HttpClient client = HttpClient.newHttpClient();
  private App app;

  @BeforeEach
  void start() throws IOException {
    app = App.start(0);
  }

  @AfterEach
  void stop() {
    // No grace period: the client's idle keep-alive connection would hold stop() for it.
    app.stop(0);
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void greetsByName() throws Exception {
    HttpResponse<String> response = send("GET", "/hello?name=Ada%20Lovelace");
    assertEquals(200, response.statusCode());
    assertEquals("Hello, Ada Lovelace!\n", response.body());
  }

  @Test
  void greetsTheWorldWithoutAName() throws Exception {
    assertEquals("Hello, world!\n", send("GET", "/hello").body());
    assertEquals("Hello, world!", App.greeting("   "));
    assertEquals("Hello, " + "x".repeat(App.MAX_NAME) + "!", App.greeting("x".repeat(100)));
  }

  @Test
  void isReadyOnceStarted() throws Exception {
    HttpResponse<String> response = send("GET", "/ready");
    assertEquals(200, response.statusCode());
    assertEquals("ready\n", response.body());
  }

  @Test
  void refusesOtherPathsAndMethods() throws Exception {
    assertEquals(404, send("GET", "/").statusCode());
    assertEquals(404, send("GET", "/hello/extra").statusCode());
    HttpResponse<String> post = send("POST", "/hello");
    assertEquals(405, post.statusCode());
    assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
  }
}
