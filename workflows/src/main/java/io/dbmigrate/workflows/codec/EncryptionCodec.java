package io.dbmigrate.workflows.codec;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.temporal.api.common.v1.Payload;
import io.temporal.payload.codec.PayloadCodec;
import io.temporal.payload.codec.PayloadCodecException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM over the whole serialized payload (its metadata included, so even the original encoding is hidden).
 * Each payload gets a random 96-bit nonce, stored in front of the ciphertext; the key id travels in the metadata and
 * is authenticated as associated data, so a payload cannot be passed off under another key's id. Payloads that are
 * not {@value #ENCODING} pass through decode untouched (histories written before the codec was configured).
 */
public final class EncryptionCodec implements PayloadCodec {
    public static final String ENCODING = "binary/encrypted";
    public static final String KEY_ID = "encryption-key-id";
    static final String METADATA_ENCODING = "encoding";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final CodecKeys keys;
    private final SecureRandom random = new SecureRandom();

    public EncryptionCodec(CodecKeys keys) {
        this.keys = keys;
    }

    @Override
    public List<Payload> encode(List<Payload> payloads) {
        return payloads.stream().map(this::encode).toList();
    }

    @Override
    public List<Payload> decode(List<Payload> payloads) {
        return payloads.stream().map(this::decode).toList();
    }

    public Payload encode(Payload p) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        String id = keys.currentId();
        try {
            byte[] sealed = cipher(Cipher.ENCRYPT_MODE, keys.current(), nonce, id).doFinal(p.toByteArray());
            return Payload.newBuilder()
                    .putMetadata(METADATA_ENCODING, ByteString.copyFromUtf8(ENCODING))
                    .putMetadata(KEY_ID, ByteString.copyFromUtf8(id))
                    .setData(ByteString.copyFrom(ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array()))
                    .build();
        } catch (GeneralSecurityException e) {
            throw new PayloadCodecException("cannot encrypt a payload with key " + id, e);
        }
    }

    public Payload decode(Payload p) {
        if (!isEncrypted(p)) {
            return p;
        }
        ByteString idBytes = p.getMetadataMap().get(KEY_ID);
        if (idBytes == null) {
            throw new PayloadCodecException("an encrypted payload carries no " + KEY_ID + " metadata");
        }
        String id = idBytes.toStringUtf8();
        SecretKey key = keys.byId(id).orElseThrow(() -> new PayloadCodecException("payload encrypted with key id '" + id
                + "', which is not among the configured codec keys " + keys.ids() + ": add that key (below the current one)"
                + " to the codec key secret"));
        byte[] data = p.getData().toByteArray();
        if (data.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new PayloadCodecException("encrypted payload of key id '" + id + "' is truncated (" + data.length + " bytes)");
        }
        try {
            byte[] nonce = java.util.Arrays.copyOf(data, NONCE_BYTES);
            byte[] plain = cipher(Cipher.DECRYPT_MODE, key, nonce, id).doFinal(data, NONCE_BYTES, data.length - NONCE_BYTES);
            return Payload.parseFrom(plain);
        } catch (AEADBadTagException e) {
            throw new PayloadCodecException("encrypted payload of key id '" + id + "' failed authentication: it was altered,"
                    + " or encrypted with another key under the same id", e);
        } catch (GeneralSecurityException | InvalidProtocolBufferException e) {
            throw new PayloadCodecException("cannot decrypt a payload of key id '" + id + "'", e);
        }
    }

    public static boolean isEncrypted(Payload p) {
        ByteString enc = p.getMetadataMap().get(METADATA_ENCODING);
        return enc != null && enc.toStringUtf8().equals(ENCODING);
    }

    private static Cipher cipher(int mode, SecretKey key, byte[] nonce, String keyId) throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
        c.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
        return c;
    }
}
